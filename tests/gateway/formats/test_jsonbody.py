from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.formats.jsonbody import MAX_DEPTH, BodyError, decode_object, encode

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**18), 10**18) | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_valid_objects_round_trip(obj: dict) -> None:
    assert decode_object(encode(obj)) == obj


@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_a_body_error_or_an_object(data: bytes) -> None:
    try:
        assert isinstance(decode_object(data), dict)
    except BodyError as exc:
        assert exc.message


def test_depth_limit_is_exact() -> None:
    ok = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert decode_object(f'{{"a":{ok}}}'.encode())
    deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    with pytest.raises(BodyError, match="nested"):
        decode_object(f'{{"a":{deep}}}'.encode())


@pytest.mark.parametrize(
    ("raw", "message"),
    [(b"", "empty"), (b"  \n", "empty"), (b"\xef\xbb\xbf{}", "byte-order mark"), (b"[1]", "must be a JSON object"),
     (b'{"a": NaN}', "not valid JSON"), (b'{"a": 1e999}', "not valid JSON"), (b'{"a": "\\udc00"}', "not valid JSON")],
)
def test_refusals_say_why(raw: bytes, message: str) -> None:
    with pytest.raises(BodyError, match=message):
        decode_object(raw)


def test_surrogate_pairs_are_fine_but_lone_ones_are_not() -> None:
    assert decode_object(b'{"a":"\\ud83d\\ude00"}') == {"a": "\U0001F600"}
    with pytest.raises(BodyError):
        decode_object(b'{"a":"\\udc00x"}')


def test_duplicates_behind_unusual_escapes_are_still_named() -> None:
    with pytest.raises(BodyError) as caught:
        decode_object(b'{"model":"a","\\u006dodel":"b"}')
    assert caught.value.param == "model"


def test_duplicate_key_names_the_key() -> None:
    with pytest.raises(BodyError) as caught:
        decode_object(b'{"a":1,"b":2,"a":3}')
    assert caught.value.param == "a"


def test_large_numbers_inside_limits_survive() -> None:
    assert decode_object(b'{"seed": 9223372036854775807, "x": 1e308}') == {"seed": 2**63 - 1, "x": 1e308}
    assert json.loads(encode({"x": 0.1})) == {"x": 0.1}
