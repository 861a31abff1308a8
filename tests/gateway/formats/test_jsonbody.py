from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.formats.common.jsonbody import (
    MAX_DEPTH,
    BodyError,
    decode_body,
    encode,
    with_member,
    with_model,
    without_steering,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**18), 10**18)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_valid_objects_round_trip(obj: dict[str, Any]) -> None:
    assert decode_body(encode(obj)).obj == obj


@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_a_body_error_or_an_object(data: bytes) -> None:
    try:
        assert isinstance(decode_body(data).obj, dict)
    except BodyError as exc:
        assert exc.message


def test_depth_limit_is_exact() -> None:
    ok = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert decode_body(f'{{"a":{ok}}}'.encode()).obj
    deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    with pytest.raises(BodyError, match="nested"):
        decode_body(f'{{"a":{deep}}}'.encode())


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"\xef\xbb\xbf{}", "byte-order mark"),
        (b"[1]", "must be a JSON object"),
        (b'{"a": NaN}', "not valid JSON"),
        (b'{"a": 1e999}', "not valid JSON"),
        (b'{"a": "\\udc00"}', "not valid JSON"),
    ],
)
def test_refusals_say_why(raw: bytes, message: str) -> None:
    with pytest.raises(BodyError, match=message):
        decode_body(raw)


def test_surrogate_pairs_are_fine_but_lone_ones_are_not() -> None:
    assert decode_body(b'{"a":"\\ud83d\\ude00"}').obj == {"a": "\U0001f600"}
    with pytest.raises(BodyError):
        decode_body(b'{"a":"\\udc00x"}')


def test_duplicates_behind_unusual_escapes_are_still_named() -> None:
    with pytest.raises(BodyError) as caught:
        decode_body(b'{"model":"a","\\u006dodel":"b"}')
    assert caught.value.param == "model"


def test_duplicate_key_names_the_key() -> None:
    with pytest.raises(BodyError) as caught:
        decode_body(b'{"a":1,"b":2,"a":3}')
    assert caught.value.param == "a"


def test_large_numbers_inside_limits_survive() -> None:
    assert decode_body(b'{"seed": 9223372036854775807, "x": 1e308}').obj == {"seed": 2**63 - 1, "x": 1e308}
    assert json.loads(encode({"x": 0.1})) == {"x": 0.1}


# --- the passthrough body: the client's bytes with the model replaced ---------------------------


def _swapped(raw: bytes, model: str = "upstream-model") -> bytes:
    body = decode_body(raw)
    return with_model(body, body.obj, model)


def test_model_is_spliced_and_every_other_byte_kept() -> None:
    raw = (
        b'{ "messages" : [ {"role":"user","content":"caf\\u00e9 \\"model\\": \\"x\\""} ],\n'
        b'  "model" :  "p/alias", "seed": 1.50, "n": 123456789012345678901234567890 }'
    )
    assert _swapped(raw) == raw.replace(b'"p/alias"', b'"upstream-model"')


def test_a_nested_model_object_does_not_confuse_the_splice() -> None:
    # Claude Code's Task tool has a "model" property in its input schema.
    raw = b'{"model":"p/a","tools":[{"name":"Task","input_schema":{"properties":{"model":{"type":"string"}}}}]}'
    assert _swapped(raw) == raw.replace(b'"p/a"', b'"upstream-model"')


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model":"p/a","metadata":{"model":"p/a"}}',  # two string members: which is top-level?
        b'{"mod\\u0065l":"p/a","metadata":{"model":"p/a"}}',  # the top-level key is escaped
        b'{"model":"p\\/a"}',  # the value is escaped differently from orjson's way
    ],
)
def test_ambiguous_bodies_are_re_encoded_with_the_right_member_replaced(raw: bytes) -> None:
    out = json.loads(_swapped(raw))
    expected = json.loads(raw)
    expected["model"] = "upstream-model"
    assert out == expected


def test_without_the_clients_bytes_the_object_is_encoded() -> None:
    assert with_model(None, {"model": "a", "x": 1}, "b") == b'{"model":"b","x":1}'


def test_a_member_is_added_last() -> None:
    assert (
        with_member(b'{"a":1 }\n', "stream_options", {"include_usage": True})
        == b'{"a":1 ,"stream_options":{"include_usage":true}}\n'
    )


@given(
    st.dictionaries(st.text(max_size=8), json_values, max_size=6),
    st.text(min_size=1, max_size=20),
    st.text(min_size=1, max_size=20),
)
def test_splice_always_means_the_same_as_replacing(obj: dict[str, Any], model: str, new: str) -> None:
    obj = {**obj, "model": model}
    for raw in (encode(obj), json.dumps(obj, indent=1).encode(), json.dumps(obj, ensure_ascii=False).encode()):
        out = json.loads(_swapped(raw, new))
        assert out == {**obj, "model": new}
        assert list(out) == list(obj)  # member order kept too


def test_steering_members_are_left_out_at_the_top_level_only() -> None:
    """SECURITY.md S23: the passthrough re-encodes only a body that holds one."""
    plain = decode_body(b'{"model": "m", "messages": [{"content": [{"image_url": {"url": "data:x"}}]}]}')
    assert without_steering(plain) == (plain, ())
    body = decode_body(b'{"model": "m", "api_base": "http://x", "n": 1, "extra_headers": {"a": "b"}}')
    stripped, names = without_steering(body)
    assert names == ("api_base", "extra_headers")
    assert stripped.raw == stripped.canonical == b'{"model":"m","n":1}' and stripped.obj == {"model": "m", "n": 1}
