"""Field checks for request bodies, declared as tables of small validators.

A validator takes ``(value, param)`` and raises ``BodyError`` naming ``param`` when the value is
wrong. ``bool`` is refused where a number is expected (in Python it is an ``int``: B4). ``null``
is accepted for every optional field, as the OpenAI API does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from gateway.formats.common.jsonbody import BodyError

Validator = Callable[[Any, str], None]

# Model, deployment and tool names end up in URLs and logs: a strict grammar (SECURITY.md S28).
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+/=-]{0,127}(?:\([a-z]{1,16}\))?$")  # "(high)": effort_suffix


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def fail(param: str, expected: str, value: Any) -> BodyError:
    return BodyError(f"Invalid type for '{param}': expected {expected}, but got {_kind(value)}.", param)


def model_name(value: Any, param: str) -> None:
    if not isinstance(value, str):
        raise fail(param, "a string", value)
    if not _MODEL_NAME.match(value) or ".." in value or "//" in value:
        raise BodyError(
            f"Invalid '{param}': {value[:60]!r} is not a model name "
            "(letters, digits and . _ : @ + / = -, at most 128 characters)",
            param,
        )


def boolean(value: Any, param: str) -> None:
    if not isinstance(value, bool):
        raise fail(param, "a boolean", value)


def integer(low: int, high: int) -> Validator:
    def check(value: Any, param: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(param, "an integer", value)
        if not low <= value <= high:
            raise BodyError(f"Invalid '{param}': {value} is outside {low}..{high}.", param)

    return check


def number(low: float, high: float) -> Validator:
    def check(value: Any, param: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail(param, "a number", value)
        if not low <= value <= high:
            raise BodyError(f"Invalid '{param}': {value} is outside {low:g}..{high:g}.", param)

    return check


def string(max_length: int) -> Validator:
    def check(value: Any, param: str) -> None:
        if not isinstance(value, str):
            raise fail(param, "a string", value)
        if len(value) > max_length:
            raise BodyError(f"Invalid '{param}': longer than {max_length} characters.", param)

    return check


def one_of(*choices: str) -> Validator:
    def check(value: Any, param: str) -> None:
        if value not in choices:
            raise BodyError(f"Invalid '{param}': expected one of {', '.join(repr(c) for c in choices)}.", param)

    return check


def obj(fields: Mapping[str, Validator] | None = None) -> Validator:
    def check(value: Any, param: str) -> None:
        if not isinstance(value, dict):
            raise fail(param, "an object", value)
        if fields:
            check_fields(value, fields, prefix=f"{param}.")

    return check


def array(item: Validator | None, *, max_items: int, min_items: int = 0) -> Validator:
    def check(value: Any, param: str) -> None:
        if not isinstance(value, list):
            raise fail(param, "an array", value)
        if not min_items <= len(value) <= max_items:
            raise BodyError(
                f"Invalid '{param}': expected {min_items} to {max_items} items, got {len(value)}.",
                param,
            )
        if item is not None:
            for i, element in enumerate(value):
                item(element, f"{param}[{i}]")

    return check


def either(expected: str, *validators: Validator) -> Validator:
    """Accept the value if any validator accepts it; otherwise report ``expected``."""

    def check(value: Any, param: str) -> None:
        errors = []
        for validator in validators:
            try:
                validator(value, param)
                return
            except BodyError as exc:
                errors.append(exc)
        # A value of the right kind but out of range explains itself better than "expected ...".
        specific = [e for e in errors if not e.message.startswith("Invalid type")]
        try:
            raise specific[0] if specific else fail(param, expected, value)
        finally:
            errors = specific = []  # the error's traceback holds this frame: no cycle through them

    return check


def check_fields(body: Mapping[str, Any], fields: Mapping[str, Validator], prefix: str = "") -> None:
    """Validate the known fields that are present and not null; unknown fields are left alone."""
    for name, value in body.items():  # bodies hold a few of the many known fields
        validator = fields.get(name)
        if validator is not None and value is not None:
            validator(value, prefix + name)


def required(body: Mapping[str, Any], name: str, validator: Validator) -> Any:
    value = body.get(name)
    if value is None:
        raise BodyError(f"Missing required parameter: '{name}'.", name)
    validator(value, name)
    return value
