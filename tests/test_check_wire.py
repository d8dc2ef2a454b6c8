"""The values that cross from the check's child process: plain data round-trips; anything else -- a
pickle's dtype, a shape its bytes do not fill, a huge shape, a handle's forged fields -- is refused
before anything is allocated."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlearn.checker.values import Opaque, show
from nnlearn.checker.wire import MAX_ELEMENTS, Function, WireError, decode, encode


def test_plain_values_round_trip_with_their_types():
    value = {
        "W1": np.arange(6, dtype=np.float32).reshape(2, 3),
        "n": 3,
        "ok": True,
        "none": None,
        "pair": (np.float64(0.5), [1.5, float("nan"), -np.inf]),
        "text": "täst",
    }
    back = decode(encode(value))
    assert back["W1"].dtype == np.float32 and back["W1"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert back["n"] == 3 and back["ok"] is True and back["none"] is None and back["text"] == "täst"
    assert isinstance(back["pair"], tuple) and type(back["pair"][0]) is np.float64 and back["pair"][0] == 0.5
    assert back["pair"][1][0] == 1.5 and np.isnan(back["pair"][1][1]) and back["pair"][1][2] == -np.inf


def test_a_read_only_array_stays_read_only_and_a_large_one_arrives_as_its_shape():
    arr = np.zeros(3)
    arr.flags.writeable = False
    assert decode(encode(arr)).flags.writeable is False
    big = decode(encode(np.zeros(MAX_ELEMENTS + 1, dtype=np.int8)))
    assert isinstance(big, Opaque) and show(big) == f"<array of shape ({MAX_ELEMENTS + 1},) object>"


def test_an_object_crosses_as_a_handle_and_its_overrides_are_never_called():
    class Loud(float):
        def __float__(self):
            raise RuntimeError("called")

        def __repr__(self):
            raise RuntimeError("called")

    class Items(list):
        def __iter__(self):
            raise RuntimeError("called")

    handles = []
    encoded = encode([Loud(0.25), Items([1, 2]), object(), len], lambda obj: handles.append(obj) or len(handles))
    loud, items, obj, fn = decode(encoded)
    assert loud == 0.25 and items == [1, 2]
    assert obj == Opaque(1, "object", False) and fn == Opaque(2, "builtin_function_or_method", True)
    assert show(obj) == "<object object>"


def _array(dtype: str, shape, data: bytes, writeable=True) -> dict:
    return {"$a": [dtype, shape, base64.b64encode(data).decode(), writeable]}


@pytest.mark.parametrize(
    "data",
    [
        _array("|O", [1], b"\0" * 8),  # an object array: a pickle's way in
        _array("<f8", [2], b"\0" * 8),  # bytes that do not fill the shape
        _array("<f8", [1 << 40], b""),  # a huge shape, nothing allocated
        _array("<f8", [-1], b""),
        {"$a": ["<f8", [1], "not base64!", True]},
        {"$n": ["<f8", base64.b64encode(b"\0" * 4).decode()]},
        {"$fn": ["square", None]},  # a function: the parent sends those, the child never does
        {"$o": ["1", "x", True]},
        {"$d": [[1.5, 0]]},
        {"$f": "1e400"},
        {"$l": [0] * 10_001},
        {"id": 1, "value": 0.5},  # two keys: not a value
        1 << 70,
        [1, 2],  # a bare JSON list
    ],
    ids=[
        "object-dtype",
        "short-bytes",
        "huge-shape",
        "negative-shape",
        "bad-base64",
        "short-scalar",
        "function",
        "handle-fields",
        "dict-key",
        "float-text",
        "long-list",
        "two-keys",
        "big-int",
        "bare-list",
    ],
)
def test_anything_else_is_refused(data):
    with pytest.raises(WireError):
        decode(data)


#: The pieces a forged message is made of: the wire's own tags and fields, dtypes (pickled, void, string,
#: big-endian, made up), shapes (empty, negative, huge) and base64 that may or may not fill them.
_TAGS = st.sampled_from(["$a", "$n", "$l", "$t", "$d", "$f", "$o", "$fn", "id", "value"]) | st.text(max_size=4)
_DTYPES = st.sampled_from(["<f8", "<f4", "|b1", "<i8", "|O", "<U3", "|V8", ">i4", "<c16", "<M8[s]", "float32", "?"])
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | _DTYPES
    | st.binary(max_size=24).map(lambda raw: base64.b64encode(raw).decode())
    | st.lists(st.integers(-2, 1 << 41), max_size=3)
)
_BASE64 = st.binary(max_size=24).map(lambda raw: base64.b64encode(raw).decode()) | st.text(max_size=8)
_FORGED = (
    st.tuples(_DTYPES, st.lists(st.integers(-2, 1 << 41), max_size=3) | _LEAVES, _BASE64, st.booleans() | _LEAVES).map(
        lambda fields: {"$a": list(fields)}
    )
    | st.tuples(_DTYPES, _BASE64).map(lambda fields: {"$n": list(fields)})
    | st.tuples(_TAGS, _LEAVES).map(lambda item: dict([item]))
)


@settings(max_examples=60, deadline=None)
@given(
    st.recursive(
        _LEAVES | _FORGED,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TAGS, inner, max_size=2),
        max_leaves=12,
    )
)
def test_whatever_arrives_is_a_value_or_a_wire_error(data):
    try:
        decode(data)
    except WireError:
        pass  # refused, in the check's own words; any other exception fails the test


def test_nesting_is_bounded():
    deep = 0.5
    for _ in range(20):
        deep = {"$l": [deep]}
    with pytest.raises(WireError, match="deep"):
        decode(deep)


def test_a_probes_function_crosses_by_name_and_shows_as_the_book_writes_it():
    loss_W = Function("weighted_square", arg=1, label="lambda W: net.loss(x, t)")
    assert encode(loss_W) == {"$fn": ["weighted_square", 1]} and loss_W.__name__ == "lambda W: net.loss(x, t)"
