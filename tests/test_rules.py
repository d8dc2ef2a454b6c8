"""Each rule of validation lives once (issue #30): the refused values of every training setting and of every public
function, each refusal checked for its class, its key words, and that its message is one of the templates of the one
vocabulary, nnlearn.base.constraints. Where one rule serves several users (dropout_ratio: the settings and the
networks; lr: the settings, the optimizers and gradient_descent), Hypothesis shows they refuse alike, word for word."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import nnlearn
from nnlearn.base import constraints
from nnlearn.base.constraints import RULES, Flag, Init, Number, Optional, Options, Seed, ShareOrCount, Sizes
from nnlearn.base.errors import InputError, InputTypeError
from nnlearn.train.settings import TrainSettings, specs

SRC = Path(constraints.__file__).parents[1]


def _templates() -> set:
    """The messages the vocabulary refuses with: its declared templates and every literal it raises with."""
    tree = ast.parse(Path(constraints.__file__).read_text())
    found = {constraints.MUST_BE, constraints.UNKNOWN}
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise):
            found |= {
                call.args[0].value
                for call in ast.walk(node)
                if isinstance(call, ast.Call)
                and getattr(call.func, "id", None) == "_"
                and call.args
                and isinstance(call.args[0], ast.Constant)
            }
    return found


def _pattern(template: str) -> re.Pattern:
    """A template as a pattern: each field any text; the rule's hint ("; ...") may follow."""
    return re.compile(".+?".join(re.escape(part) for part in re.split(r"\{[^{}]*\}", template)) + r"(; .+)?", re.S)


PATTERNS = [_pattern(t) for t in _templates()]


def speaks_the_vocabulary(message: str) -> bool:
    return any(p.fullmatch(message) for p in PATTERNS)


def test_the_vocabulary_test_can_fail():
    assert speaks_the_vocabulary("lr must be a number > 0, got 0; the book uses 0.1 with SGD")
    assert speaks_the_vocabulary("unknown activation 'tanh'; choose one of sigmoid, relu")
    # A message written elsewhere (the shape rule of softmax) is not the vocabulary's.
    with pytest.raises(InputError) as e:
        nnlearn.softmax(np.zeros((2, 0)))
    assert not speaks_the_vocabulary(str(e.value))


def refused(constraint) -> list:
    """Values ``constraint`` refuses: of the wrong type, not finite, just outside each bound, unknown names."""
    if isinstance(constraint, Optional):
        return [v for v in refused(constraint.inner) if v is not None]  # None is "not set" there
    if isinstance(constraint, Options):
        return ["no-such-name", 3]
    if isinstance(constraint, Number):
        values = ["0.5", True, None, math.nan, math.inf]
        if constraint.kind is int:
            values.append(1.5)
        step = 1 if constraint.kind is int else 0.5
        if constraint.low is not None:
            values.append(constraint.low if constraint.low_open else constraint.low - step)
        if constraint.high is not None:
            values.append(constraint.high if constraint.high_open else constraint.high + step)
        return values
    if isinstance(constraint, Sizes):
        return [[0], [], [8, -1], [1.5], "100", None]
    if isinstance(constraint, Init):
        return [-1, 0, math.nan, "lecun", None, True]
    if isinstance(constraint, ShareOrCount):
        return [0, 1.0, -3, "0.1", True]
    if isinstance(constraint, Seed):
        return [-1, 1.5, "0", True]
    if isinstance(constraint, Flag):
        return [1, "yes", None]
    raise AssertionError(f"no refused values listed for {type(constraint).__name__}")


def assert_refused(call, name: str, value, error=InputError):
    """``call()`` refuses ``value`` of ``name`` with ``error``, naming both, in the vocabulary's words."""
    with pytest.raises(error) as e:
        call()
    message = str(e.value)
    assert name in message and repr(value) in message, message
    assert speaks_the_vocabulary(message), message
    return message


SETTINGS = [(name, value) for name, spec in specs().items() for value in refused(spec.constraint)]


@pytest.mark.parametrize("name, value", SETTINGS, ids=[f"{n}={v!r}" for n, v in SETTINGS])
def test_every_setting_refuses_in_the_vocabulary(name, value):
    message = assert_refused(lambda: TrainSettings(**{name: value}), name, value)
    constraint = specs()[name].constraint
    if not isinstance(getattr(constraint, "inner", constraint), Options):
        # The same words on the command line: argparse names the flag, the rule says the rest.
        assert constraint.refuse_word(repr(value)).split(", got ")[0] in message


def _network(**kw):
    return nnlearn.MultiLayerNet(4, [3], 2, **kw)


def _x():
    return np.ones((2, 4))


#: (what is called, the argument's name, its rule, the call with the value in place).
ARGUMENTS = [
    ("MultiLayerNet", "hidden_size_list", RULES["hidden_size"], lambda v: nnlearn.MultiLayerNet(4, v, 2)),
    ("MultiLayerNet", "input_size", constraints.POSITIVE_WHOLE, lambda v: nnlearn.MultiLayerNet(v, [3], 2)),
    ("MultiLayerNet", "output_size", constraints.POSITIVE_WHOLE, lambda v: nnlearn.MultiLayerNet(4, [3], v)),
    ("MultiLayerNet", "activation", Options(("sigmoid", "relu")), lambda v: _network(activation=v)),
    ("MultiLayerNet", "loss", Options(("cross_entropy", "mse")), lambda v: _network(loss=v)),
    ("MultiLayerNet", "dtype", Options(("float32", "float64")), lambda v: _network(dtype=v)),
    ("MultiLayerNet", "seed", RULES["seed"], lambda v: _network(seed=v)),
    ("TwoLayerNet", "hidden_size", constraints.POSITIVE_WHOLE, lambda v: nnlearn.TwoLayerNet(4, v, 2)),
    ("SimpleNet", "seed", RULES["seed"], lambda v: nnlearn.SimpleNet(seed=v)),
    (
        "gradient_descent",
        "step_num",
        constraints.COUNT,
        lambda v: nnlearn.gradient_descent(lambda x: x @ x, [1.0], lr=0.1, step_num=v),
    ),
    (
        "gradient_descent",
        "return_path",
        constraints.FLAG,
        lambda v: nnlearn.gradient_descent(lambda x: x @ x, [1.0], lr=0.1, return_path=v),
    ),
    (
        "numerical_diff",
        "method",
        Options(("central", "forward", "backward")),
        lambda v: nnlearn.numerical_diff(math.sin, 1.0, method=v),
    ),
    ("numerical_diff", "h", RULES["h"], lambda v: nnlearn.numerical_diff(math.sin, 1.0, h=v)),
    ("numerical_gradient", "h", RULES["h"], lambda v: nnlearn.numerical_gradient(lambda x: x @ x, np.ones(2), h=v)),
    (
        "numerical_gradient",
        "method",
        Options(("central",)),
        lambda v: nnlearn.numerical_gradient(lambda x: x @ x, np.ones(2), method=v),
    ),
    ("derivative", "method", Options(("auto",)), lambda v: nnlearn.derivative(math.sin, 1.0, method=v)),
    ("derivative", "full_output", constraints.FLAG, lambda v: nnlearn.derivative(math.sin, 1.0, full_output=v)),
    (
        "gradient_check",
        "sample",
        constraints.POSITIVE_WHOLE,
        lambda v: nnlearn.gradient_check(_network(seed=0), _x(), [0, 1], sample=v),
    ),
    ("gradient_check", "seed", RULES["seed"], lambda v: nnlearn.gradient_check(_network(seed=0), _x(), [0, 1], seed=v)),
    (
        "gradient_check",
        "numerical engine",
        Options(("fast",)),
        lambda v: nnlearn.gradient_check(_network(seed=0), _x(), [0, 1], engine=v),
    ),
    ("load_mnist", "normalize", constraints.FLAG, lambda v: nnlearn.load_mnist(normalize=v)),
    ("load_fashion_mnist", "one_hot_label", constraints.FLAG, lambda v: nnlearn.load_fashion_mnist(one_hot_label=v)),
    ("load_dataset", "flatten", constraints.FLAG, lambda v: nnlearn.load_dataset("mnist", flatten=v)),
    ("train_arrays", "recipe", Options(("book",)), lambda v: nnlearn.train_arrays(_x(), [0, 1], recipe=v)),
    ("train_arrays", "batch_size", RULES["batch_size"], lambda v: nnlearn.train_arrays(_x(), [0, 1], batch_size=v)),
]
# The book's arguments of the networks and the optimizers, each with its one rule.
ARGUMENTS += [
    (cls.__name__, name, RULES[name], lambda v, cls=cls, name=name: cls(**{name: v}))
    for cls, names in (
        (nnlearn.SGD, ("lr",)),
        (nnlearn.Momentum, ("lr", "momentum")),
        (nnlearn.AdaGrad, ("lr", "eps")),
        (nnlearn.Adam, ("lr", "beta1", "beta2", "eps")),
    )
    for name in names
]
ARGUMENTS += [
    (cls, name, RULES[name], lambda v, cls=cls, name=name: getattr(nnlearn, cls)(4, 3, 2, **{name: v}))
    for cls in ("MultiLayerNet", "TwoLayerNet")
    for name in ("weight_init_std", "weight_decay_lambda", "dropout_ratio")
]
#: Where None is a value: a fresh seed, the automatic step, every element, the recipe's batch size.
NONE_MEANS = {"seed", "h", "sample", "batch_size"}
CASES = [
    (who, name, value, call)
    for who, name, rule, call in ARGUMENTS
    for value in refused(rule)
    if not (value is None and name in NONE_MEANS) and not (value == [] and name == "hidden_size_list")
]


@pytest.mark.parametrize("who, name, value, call", CASES, ids=[f"{w}-{n}={v!r}" for w, n, v, _c in CASES])
def test_every_argument_of_the_public_functions_refuses_in_the_vocabulary(who, name, value, call):
    error = (
        InputTypeError
        if name in ("return_path", "full_output", "normalize", "one_hot_label", "flatten")
        else InputError
    )
    assert_refused(lambda: call(value), name, value, error)


#: The arrays the public functions take: what each refuses, the error and the key words.
ARRAYS = [
    *[
        (f.__name__, lambda f=f: f(bad), InputTypeError, ["x must be a number or an array of numbers"])
        for f in (nnlearn.sigmoid, nnlearn.relu, nnlearn.step_function, nnlearn.sigmoid_grad, nnlearn.softmax)
        for bad in (None, "abc", [1, "a"])
    ],
    *[
        (f.__name__, lambda f=f: f(np.array([1j])), InputTypeError, ["takes real numbers", "complex"])
        for f in (nnlearn.sigmoid, nnlearn.relu, nnlearn.step_function)
    ],
    (
        "cross_entropy_error",
        lambda: nnlearn.cross_entropy_error(np.array([0.5, np.nan]), 0),
        InputError,
        ["y contains NaN", "lower the learning rate"],
    ),
    (
        "cross_entropy_error",
        lambda: nnlearn.cross_entropy_error(np.array([[0.5, 0.5]]), [2]),
        InputError,
        ["labels out of range", "0..1"],
    ),
    (
        "cross_entropy_error",
        lambda: nnlearn.cross_entropy_error(np.array([0.5, 0.6]), 0),
        InputError,
        ["sums to 1.1", "probabilities"],
    ),
    (
        "cross_entropy_error",
        lambda: nnlearn.cross_entropy_error(np.array([0.5, 0.5]), np.array([True, False])),
        InputTypeError,
        ["t holds booleans"],
    ),
    ("mean_squared_error", lambda: nnlearn.mean_squared_error(np.array(["a"]), 0), InputError, ["y must be numeric"]),
    (
        "mean_squared_error",
        lambda: nnlearn.mean_squared_error(np.zeros((0, 2)), np.zeros(0)),
        InputError,
        ["y is empty"],
    ),
    (
        "cross_entropy_error",
        lambda: nnlearn.cross_entropy_error(np.array([[0.5, 0.5]]), [0.5]),
        InputError,
        ["t holds non-integer labels"],
    ),
    ("gradient_descent", lambda: nnlearn.gradient_descent(3, [1.0]), InputTypeError, ["f must be", "int"]),
    (
        "gradient_descent",
        lambda: nnlearn.gradient_descent(lambda x: x, "5"),
        InputTypeError,
        ["init_x must be a real number"],
    ),
    ("numerical_diff", lambda: nnlearn.numerical_diff(lambda x: x, np.inf), InputError, ["x must be finite"]),
    (
        "numerical_diff",
        lambda: nnlearn.numerical_diff(lambda x: None, 1.0),
        InputTypeError,
        ["returned None", "must return a real number"],
    ),
    (
        "numerical_gradient",
        lambda: nnlearn.numerical_gradient(lambda x: x @ x, np.array([1.0, np.nan])),
        InputError,
        ["x contains NaN", "a gradient needs a point of finite numbers"],
    ),
    (
        "derivative",
        lambda: nnlearn.derivative(math.sin, [0.0, np.inf]),
        InputError,
        ["x contains inf", "a derivative needs finite points"],
    ),
    ("SimpleNet", lambda: nnlearn.SimpleNet(W=np.full((2, 3), np.nan)), InputError, ["W contains NaN"]),
    (
        "MultiLayerNet",
        lambda: nnlearn.MultiLayerNet(784, [10**12], 10),
        InputError,
        ["parameters", "choose smaller layers"],
    ),
    (
        "MultiLayerNet.predict",
        lambda: _network().predict(np.array([[1.0, np.nan, 0, 0]])),
        InputError,
        ["x contains NaN"],
    ),
    ("MultiLayerNet.loss", lambda: _network().loss(_x(), [0, 5]), InputError, ["labels out of range"]),
    (
        "Trainer",
        lambda: nnlearn.Trainer(_network(dtype=np.float32), np.full((2, 4), np.nan), [0, 1]),
        InputError,
        ["contains NaN"],
    ),
]


@pytest.mark.parametrize("who, call, error, words", ARRAYS, ids=[f"{a[0]}-{i}" for i, a in enumerate(ARRAYS)])
def test_the_arrays_of_the_public_functions_are_refused_in_the_vocabulary(who, call, error, words):
    with pytest.raises(error) as e:
        call()
    message = str(e.value)
    assert all(w in message for w in words), message
    assert speaks_the_vocabulary(message), message


def test_every_public_function_that_takes_arguments_is_listed():
    """A new public name comes with its refusals here (nnlearn.check, the sandboxed checker, has its own
    catalogue; load_network's refusals are those of a file, base.files')."""
    listed = {who.split(".")[0] for who, *_ in ARGUMENTS + ARRAYS} | {"TrainSettings", "Trainer", "identity_function"}
    public = {
        n
        for n in nnlearn.__all__
        if callable(getattr(nnlearn, n))
        and not isinstance(getattr(nnlearn, n), type)
        or n
        in (
            "SimpleNet",
            "MultiLayerNet",
            "TwoLayerNet",
            "SGD",
            "Momentum",
            "AdaGrad",
            "Adam",
            "TrainSettings",
            "Trainer",
        )
    }
    assert public - listed == {"check", "load_network"}


# -- one rule, one message, wherever it is used ------------------------------------------------------------------


def message_of(call) -> str:
    with pytest.raises(InputError) as e:
        call()
    return str(e.value)


out_of_unit = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not 0 <= v < 1),
    st.sampled_from([math.nan, math.inf, -math.inf, 1.0, -1e-300]),
)


@hypothesis_settings(max_examples=60, deadline=None)
@given(out_of_unit)
def test_a_dropout_ratio_outside_0_1_is_refused_alike_by_the_settings_and_the_networks(value):
    by_settings = message_of(lambda: TrainSettings(dropout_ratio=value))
    assert by_settings == message_of(lambda: nnlearn.MultiLayerNet(4, [3], 2, dropout_ratio=value))
    assert by_settings == message_of(lambda: nnlearn.TwoLayerNet(4, 3, 2, dropout_ratio=value))
    assert by_settings.startswith("dropout_ratio must be a number in [0, 1), got ") and speaks_the_vocabulary(
        by_settings
    )


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not (math.isfinite(v) and v > 0)))
def test_a_learning_rate_not_above_0_is_refused_alike_everywhere(value):
    by_settings = message_of(lambda: TrainSettings(lr=value))
    for optimizer in (nnlearn.SGD, nnlearn.Momentum, nnlearn.AdaGrad, nnlearn.Adam):
        assert message_of(lambda: optimizer(lr=value)) == by_settings
    assert message_of(lambda: nnlearn.gradient_descent(lambda x: x @ x, [1.0], lr=value)) == by_settings
    assert by_settings.startswith("lr must be a number > 0, got ") and speaks_the_vocabulary(by_settings)


@hypothesis_settings(max_examples=60, deadline=None)
@given(out_of_unit, st.sampled_from(["momentum", "beta1", "beta2"]))
def test_a_decay_outside_0_1_is_refused_alike_by_the_settings_and_the_optimizer(value, name):
    optimizer = "momentum" if name == "momentum" else "adam"
    by_settings = message_of(lambda: TrainSettings(optimizer=optimizer, **{name: value}))
    cls = nnlearn.Momentum if name == "momentum" else nnlearn.Adam
    assert message_of(lambda: cls(**{name: value})) == by_settings
    assert speaks_the_vocabulary(by_settings)


@hypothesis_settings(max_examples=15, deadline=None)
@given(
    st.one_of(
        st.floats(max_value=0),
        st.sampled_from([math.nan, math.inf]),
        st.text(max_size=5).filter(lambda s: s.lower() not in ("xavier", "he", "sigmoid", "relu")),
    )
)
def test_a_weight_init_is_refused_alike_by_the_settings_and_the_networks(value):
    by_settings = message_of(lambda: TrainSettings(weight_init_std=value))
    assert message_of(lambda: nnlearn.TwoLayerNet(4, 3, 2, weight_init_std=value)) == by_settings
    assert speaks_the_vocabulary(by_settings)


@hypothesis_settings(max_examples=40, deadline=None)
@given(
    st.one_of(
        st.integers(max_value=0),
        st.integers(min_value=constraints.MAX_BATCH + 1),
        st.floats(allow_nan=True),
        st.booleans(),
    )
)
def test_a_batch_size_is_refused_alike_by_the_settings_the_networks_and_the_batches(value):
    from nnlearn.datasets.batches import sample_batch_indices

    by_settings = message_of(lambda: TrainSettings(batch_size=value))
    assert message_of(lambda: sample_batch_indices(10, value)) == by_settings
    assert (
        message_of(
            lambda: nnlearn.MultiLayerNet(4, [3], 2, dropout_ratio=0.5).dropout_masks(np.random.default_rng(0), value)
        )
        == by_settings
    )


def test_no_module_but_the_vocabulary_writes_a_rule_of_the_books_arguments():
    """A check of lr, momentum, ... written again elsewhere (with its own message) would fail here."""
    names = "|".join(sorted(RULES))
    rule = re.compile(rf"^\{{?({names}|hidden_size_list|weight_decay|dropout)\}}? must ")
    written = []
    for path in SRC.rglob("*.py"):
        if path == Path(constraints.__file__):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in ("_", "N_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and rule.match(node.args[0].value)
            ):
                written.append(f"{path.relative_to(SRC)}: {node.args[0].value}")
    assert written == []
