"""One error convention: a user's bad input raises nnlearn's own errors, never a plain Python one.

Every public function and method a reader of the book calls is called once with good arguments,
then with each argument in turn replaced by bad values (wrong types, NaN, empty, wrong shapes,
negative and huge sizes, ...). A call may succeed (a warning is allowed) or raise an
:class:`nnlearn.NnlearnError`; anything else -- ``ValueError``, ``TypeError``, ``IndexError``,
``KeyError``, ``MemoryError``, ``ZeroDivisionError``, ``AttributeError``, ... -- escapes. nnlearn's
``InputError`` is also a ``ValueError``: the test checks the class, not the base.

Every one of those errors is also said in Chinese and Japanese (nnlearn.base.i18n), never left in English.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import nnlearn
from nnlearn import datasets
from nnlearn.base import i18n
from nnlearn.base.errors import NnlearnError
from nnlearn.common.derivatives.expr import parse_expression

NET = dict(input_size=4, hidden_size=3, output_size=2)
X = np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.4, 0.3, 0.2], [0.9, 0.1, 0.5, 0.5]])
T = np.array([0, 1, 1])


def _f2(x):
    return x[0] ** 2 + x[1] ** 2


def _f1(x):
    return 0.01 * x**2 + 0.1 * x


BAD = {
    "None": None,
    "a string": "abc",
    "True": True,
    "a complex number": 1j,
    "NaN": float("nan"),
    "-1": -1,
    "0": 0,
    "10**12": 10**12,
    "an empty array": np.array([]),
    "a NaN array": np.array([np.nan, 1.0]),
    "a 3-D array": np.ones((2, 3, 4)),
    "an array of strings": np.array(["a", "b"]),
    "a dict": {},
    "an object": object(),
    "a function returning a string": lambda *args: "abc",
}


def _expression(text):
    return parse_expression(text)


def _net():
    return nnlearn.TwoLayerNet(**NET, weight_init_std=0.5, seed=0)


def _mlp():
    return nnlearn.MultiLayerNet(4, [3], 2, seed=0, dropout_ratio=0.5)


#: name -> (callable, {argument: good value}); arguments are passed by keyword, each replaced in turn.
CALLS = {
    "identity_function": (nnlearn.identity_function, {"x": np.array([1.0, -2.0])}),
    "step_function": (nnlearn.step_function, {"x": np.array([1.0, -2.0])}),
    "sigmoid": (nnlearn.sigmoid, {"x": np.array([1.0, -2.0])}),
    "sigmoid_grad": (nnlearn.sigmoid_grad, {"x": np.array([1.0, -2.0])}),
    "relu": (nnlearn.relu, {"x": np.array([1.0, -2.0])}),
    "softmax": (nnlearn.softmax, {"x": np.array([0.3, 2.9, 4.0])}),
    "mean_squared_error": (nnlearn.mean_squared_error, {"y": np.array([0.1, 0.6, 0.3]), "t": np.array([0, 1, 0])}),
    "cross_entropy_error": (nnlearn.cross_entropy_error, {"y": np.array([0.1, 0.6, 0.3]), "t": np.array([0, 1, 0])}),
    "numerical_diff": (nnlearn.numerical_diff, {"f": _f1, "x": 5.0, "h": 1e-4, "method": "central"}),
    "numerical_gradient": (
        lambda **kw: (
            nnlearn.numerical_gradient(**kw)
            if not isinstance(kw["x"], np.ndarray)
            else nnlearn.numerical_gradient(**kw | {"x": kw["x"].copy()})
        ),
        {"f": _f2, "x": np.array([3.0, 4.0]), "h": 1e-4, "method": "central"},
    ),
    "gradient_descent": (
        nnlearn.gradient_descent,
        {"f": _f2, "init_x": np.array([-3.0, 4.0]), "lr": 0.1, "step_num": 3, "return_path": False},
    ),
    "derivative": (nnlearn.derivative, {"f": np.sin, "x": 1.0, "method": "auto", "h": None, "full_output": False}),
    "parse_expression": (parse_expression, {"text": "x**2 + 1", "variables": None}),
    "Expression()": (lambda **kw: _expression("x0 * x1")(*kw.values()), {"x0": 2.0, "x1": 3.0}),
    "Expression(one value too many)": (lambda **kw: _expression("x0 * x1")(2.0, 3.0, kw["x2"]), {"x2": 1.0}),
    "SimpleNet": (nnlearn.SimpleNet, {"W": np.ones((2, 3)), "seed": 0}),
    "SimpleNet.predict": (lambda **kw: nnlearn.SimpleNet(seed=0).predict(**kw), {"x": np.array([0.6, 0.9])}),
    "SimpleNet.loss": (
        lambda **kw: nnlearn.SimpleNet(seed=0).loss(**kw),
        {"x": np.array([0.6, 0.9]), "t": np.array([0, 0, 1])},
    ),
    "SimpleNet.numerical_gradient": (
        lambda **kw: nnlearn.SimpleNet(seed=0).numerical_gradient(**kw),
        {"x": np.array([0.6, 0.9]), "t": np.array([0, 0, 1])},
    ),
    "TwoLayerNet": (
        nnlearn.TwoLayerNet,
        {
            **NET,
            "weight_init_std": 0.01,
            "seed": 0,
            "dtype": np.float64,
            "weight_decay_lambda": 0.0,
            "dropout_ratio": 0.0,
        },
    ),
    "MultiLayerNet": (
        nnlearn.MultiLayerNet,
        {
            "input_size": 4,
            "hidden_size_list": [3],
            "output_size": 2,
            "activation": "relu",
            "weight_init_std": "he",
            "loss": "cross_entropy",
            "seed": 0,
            "dtype": np.float64,
        },
    ),
    "net.predict": (lambda **kw: _net().predict(**kw), {"x": X}),
    "net.loss": (lambda **kw: _net().loss(**kw), {"x": X, "t": T}),
    "net.accuracy": (lambda **kw: _net().accuracy(**kw), {"x": X, "t": T, "chunk_size": 2}),
    "net.classify": (lambda **kw: _net().classify(**kw), {"x": X, "engine": "fused", "chunk_size": 2}),
    "net.gradient": (lambda **kw: _net().gradient(**kw), {"x": X, "t": T, "engine": None}),
    "net.numerical_gradient": (lambda **kw: _net().numerical_gradient(**kw), {"x": X, "t": T, "engine": "fast"}),
    "net.set_params": (lambda **kw: _net().set_params(**kw), {"params": {"b2": np.zeros(2)}}),
    "net.dropout_masks": (lambda **kw: _mlp().dropout_masks(**kw), {"rng": np.random.default_rng(0), "batch_size": 3}),
    "net.loss(masks)": (lambda **kw: _mlp().loss(X, T, **kw), {"masks": (np.ones((3, 3), dtype=bool),)}),
    "load_network": (nnlearn.load_network, {"path": "no-such-model.npz"}),
    "gradient_check": (
        nnlearn.gradient_check,
        {"network": _net(), "x": X, "t": T, "engine": None, "sample": 2, "seed": 0},
    ),
    "SGD": (nnlearn.SGD, {"lr": 0.1}),
    "Momentum": (nnlearn.Momentum, {"lr": 0.1, "momentum": 0.9}),
    "AdaGrad": (nnlearn.AdaGrad, {"lr": 0.1}),
    "Adam": (nnlearn.Adam, {"lr": 0.001, "beta1": 0.9, "beta2": 0.999}),
    "SGD.update": (
        lambda **kw: nnlearn.SGD(lr=0.1).update(**kw),
        {"params": {"W": np.ones(2)}, "grads": {"W": np.ones(2)}},
    ),
    "Adam.update": (
        lambda **kw: nnlearn.Adam().update(**kw),
        {"params": {"W": np.ones(2)}, "grads": {"W": np.ones(2)}},
    ),
    "TrainSettings": (
        nnlearn.TrainSettings,
        {
            "hidden_size": (3,),
            "lr": 0.1,
            "batch_size": 2,
            "iters": 2,
            "seed": 0,
            "optimizer": "sgd",
            "activation": "sigmoid",
        },
    ),
    "train_arrays": (
        nnlearn.train_arrays,
        {
            "x_train": X,
            "t_train": T,
            "x_test": X,
            "t_test": T,
            "recipe": "book",
            "hidden_size": [3],
            "iters": 2,
            "batch_size": 2,
            "progress": False,
        },
    ),
    "Trainer": (
        lambda **kw: nnlearn.Trainer(**kw),
        {"network": _net(), "x_train": X, "t_train": T, "x_test": X, "t_test": T},
    ),
    "load_dataset": (nnlearn.load_dataset, {"name": "no-such-dataset"}),
    "load_mnist": (
        nnlearn.load_mnist,
        {"normalize": True, "flatten": True, "one_hot_label": False, "data_dir": "/nonexistent-nnlearn-data"},
    ),
    "sample_batch_indices": (datasets.sample_batch_indices, {"train_size": 10, "batch_size": 3, "seed": 0}),
    "sample_batch": (datasets.sample_batch, {"x": X, "t": T, "batch_size": 2, "seed": 0}),
    "train_validation_split": (datasets.train_validation_split, {"x": X, "t": T, "validation": 1, "seed": 0}),
}

ALL = tuple(BAD)
ARRAYS = ("an empty array", "a NaN array", "a 3-D array", "an array of strings")
NOT_ITERABLE = ("True", "a complex number", "NaN", "-1", "0", "10**12", "an object", "a function returning a string")
BAD_SEEDS = (
    "a string",
    "True",
    "a complex number",
    "NaN",
    "-1",
    *ARRAYS,
    "a dict",
    "an object",
    "a function returning a string",
)
NOT_A_FLAG = tuple(label for label in ALL if label != "True")

#: Values that are legitimate but take long (10**12 steps; iters=None: the recipe's 10,000), not tried.
SLOW = {
    ("gradient_descent", "step_num", "10**12"),
    ("train_arrays", "iters", "10**12"),
    ("train_arrays", "iters", "None"),
}

#: What counts as escaping: everything but nnlearn's own errors (and a KeyboardInterrupt, which is not input).
GOOD = (NnlearnError,)


#: The user's own functions: what they raise (``x[0]`` of a number) is theirs, not nnlearn's.
USER_CODE = {_f1.__code__, _f2.__code__}


def _raised_by_the_users_function(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code in USER_CODE:
            return True
        tb = tb.tb_next
    return False


def outcome(fn, kwargs) -> str | None:
    """None when ``fn(**kwargs)`` returns or raises an nnlearn error, else the escaping exception in words."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            fn(**kwargs)
        except GOOD:
            return None
        except Exception as exc:  # noqa: BLE001 - what escapes is the finding
            if _raised_by_the_users_function(exc):
                return None
            return f"{type(exc).__name__}: {exc}"[:160]
    return None


@pytest.fixture(autouse=True)
def _no_real_data(monkeypatch):
    # A bad value that falls back to the default data folder must not parse real MNIST (0.6 s each).
    monkeypatch.delenv("NNLEARN_DATA", raising=False)


@pytest.mark.parametrize("name", CALLS)
def test_the_good_call_works(name):
    fn, good = CALLS[name]
    if name in ("load_network", "load_dataset", "load_mnist"):
        return  # their good call needs a file; what matters here is the bad ones
    assert outcome(fn, good) is None


@pytest.mark.parametrize("name", CALLS)
def test_bad_input_raises_nnlearn_errors_only(name):
    fn, good = CALLS[name]
    escaped = {}
    for arg in good:
        for label, value in BAD.items():
            if (name, arg, label) in SLOW:
                continue
            found = outcome(fn, good | {arg: value})
            if found is not None:
                escaped[(arg, label)] = found
    assert escaped == {}


#: Beyond the list above, values drawn by Hypothesis: arrays of every kind of element (booleans, unsigned and
#: half-precision numbers, complex, text, bytes, dates, objects) and of every shape up to 3-D, empty ones
#: included; and plain values of every type (NaN and infinite floats, complex numbers, text, lists, dicts).
#: Whole numbers stay small: a large one is a legitimate count of steps (``SLOW``), not a bad one.
_ELEMENTS = [
    np.bool_,
    np.int8,
    np.uint64,
    np.float16,
    np.float32,
    np.float64,
    np.complex128,
    "<U2",
    "S2",
    "M8[s]",
    "m8[s]",
    object,
]
ODD_ARRAYS = st.sampled_from(_ELEMENTS).flatmap(
    lambda dtype: arrays(
        dtype,
        array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
        elements=st.none() | st.text(max_size=2) | st.floats() if dtype is object else None,
    )
)
ODD_VALUES = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats()
    | st.complex_numbers()
    | st.text(max_size=6)
    | st.lists(st.floats() | st.integers(-3, 3), max_size=4)
    | st.dictionaries(st.text(max_size=3), st.integers(-2, 2), max_size=2)
)
ARGUMENTS = [(name, arg) for name, (_, good) in CALLS.items() for arg in good]
ARRAY_ARGUMENTS = [
    (name, arg) for name, (_, good) in CALLS.items() for arg, value in good.items() if isinstance(value, np.ndarray)
]


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(ARRAY_ARGUMENTS), ODD_ARRAYS)
@example(("net.loss", "x"), np.zeros((0, 3, 3)))  # found by it: a raw ValueError from reshape(0, -1)
def test_odd_arrays_raise_nnlearn_errors_only(where, value):
    name, arg = where
    fn, good = CALLS[name]
    assert outcome(fn, good | {arg: value}) is None


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ARGUMENTS), ODD_VALUES)
def test_odd_values_raise_nnlearn_errors_only(where, value):
    name, arg = where
    fn, good = CALLS[name]
    assert outcome(fn, good | {arg: value}) is None


#: The script each language writes its messages in (a message also holds names, numbers and values).
SCRIPTS = {"zh": "[\u4e00-\u9fff]", "ja": "[\u3040-\u30ff]"}


def messages(name, lang) -> dict:
    """``{(argument, bad value): message}`` of the nnlearn errors that the bad calls of ``name`` raise in ``lang``."""
    fn, good = CALLS[name]
    found = {}
    with i18n.use(lang):
        for arg in good:
            for label, value in BAD.items():
                if (name, arg, label) in SLOW:
                    continue
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    try:
                        fn(**(good | {arg: value}))
                    except NnlearnError as exc:
                        found[(arg, label)] = str(exc)
                    except Exception:  # noqa: BLE001 - the test above reports these
                        pass
    return found


@pytest.mark.parametrize("lang", SCRIPTS)
@pytest.mark.parametrize("name", CALLS)
def test_every_error_is_said_in_chinese_and_japanese(name, lang):
    english, said = messages(name, "en"), messages(name, lang)
    assert said.keys() == english.keys()
    untranslated = {key: text for key, text in said.items() if not re.search(SCRIPTS[lang], text)}
    assert untranslated == {}
    assert all(said[key] != english[key] for key in said)
