"""nnlearn.common.derivatives.expr: what the formula language computes, and everything it refuses (quickly)."""

from __future__ import annotations

import ast
import builtins
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlearn.base.errors import NnlearnError
from nnlearn.common.derivatives.expr import FUNCTIONS, MAX_DEPTH, MAX_LENGTH, ExpressionError, parse_expression


def value(text, *args):
    return float(parse_expression(text)(*args))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("1 / 2 / 4", 0.125),
        ("2 - 3 - 4", -5.0),
        ("2 ** 3 ** 2", 512.0),  # right-associative, as in Python and mathematics
        ("2 ^ 3 ^ 2", 512.0),  # ^ is a power, not xor
        ("-2 ** 2", -4.0),  # the power binds tighter than the sign
        ("2 ** -1", 0.5),
        ("--3", 3.0),
        ("+3", 3.0),
        ("1e-3 * 1E3", 1.0),
        (".5 + 5.", 5.5),
        ("pi", math.pi),
        ("e", math.e),
        ("exp(1)", math.e),
        ("ln(e)", 1.0),
        ("sqrt(16) + log10(1000) + log2(8)", 10.0),
        ("sigmoid(0)", 0.5),
        ("relu(-2) + relu(3)", 3.0),
        ("abs(-2.5)", 2.5),
        ("softplus(0)", math.log(2.0)),
        ("tanh(0) + cosh(0) + atan(1) * 4", 1.0 + math.pi),
    ],
)
def test_constant_values(text, expected):
    assert value(text) == pytest.approx(expected, rel=1e-15)


def test_book_functions():
    f = parse_expression("0.01*x**2 + 0.1*x")
    assert f.variables == ("x",)
    assert float(f(5.0)) == 0.01 * 5.0**2 + 0.1 * 5.0
    g = parse_expression("x0**2 + x1**2")
    assert g.variables == ("x0", "x1")
    assert float(g(3.0, 4.0)) == 25.0


def test_variable_order_is_natural():
    assert parse_expression("x10 + x2 + x1").variables == ("x1", "x2", "x10")
    assert parse_expression("y * x + z").variables == ("x", "y", "z")
    assert parse_expression("y - x", variables=["y", "x"])(1.0, 3.0) == -2.0


def test_evaluates_on_arrays_and_complex():
    f = parse_expression("exp(x) * sin(x) + sigmoid(x)")
    xs = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(f(xs), np.exp(xs) * np.sin(xs) + 1 / (1 + np.exp(-xs)), rtol=1e-15)
    z = 0.7 + 1e-20j
    out = f(z)
    assert np.iscomplexobj(out)
    expected = np.exp(z) * np.sin(z) + 1 / (1 + np.exp(-z))
    assert complex(out) == pytest.approx(complex(expected), rel=1e-15)
    assert complex(out).imag / 1e-20 == pytest.approx(
        math.exp(0.7) * (math.sin(0.7) + math.cos(0.7)) + math.exp(-0.7) / (1 + math.exp(-0.7)) ** 2, rel=1e-14
    )


def test_stable_sigmoid_and_softplus_for_large_inputs():
    with np.errstate(all="raise"):
        assert value("sigmoid(-1000)") == 0.0
        assert value("sigmoid(1000)") == 1.0
        assert value("softplus(1000)") == 1000.0
    f = parse_expression("sigmoid(x) + softplus(x)")
    assert np.all(np.isfinite(f(np.array([-800 + 1e-20j, 800 + 1e-20j]))))


def test_abs_and_relu_refuse_complex_input():
    # They are not analytic: a complex step through them would silently be wrong.
    for text in ("abs(x)", "relu(x)", "1 + 2 * abs(x)"):
        with pytest.raises(TypeError, match="not analytic"):
            parse_expression(text)(1.0 + 1e-20j)


def test_constant_formula_takes_one_value():
    f = parse_expression("2 * pi")
    assert f.variables == ()
    assert float(f(5.0)) == 2 * math.pi
    np.testing.assert_array_equal(f(np.zeros(3)), np.full(3, 2 * math.pi))


def test_wrong_number_of_values():
    with pytest.raises(TypeError, match="takes 2 value"):
        parse_expression("x*y")(1.0)


def test_overflow_at_evaluation_is_inf_not_a_hang():
    # float arithmetic, not Python's exact integers: 10 ** 1000 overflows to inf at once.
    f = parse_expression("x ** 1000")
    assert f(10.0) == math.inf


REFUSED = [
    ("__import__('os')", "unexpected character"),
    ("__import__", "may not start with '_'"),
    ("x.real", "unexpected character '.'"),
    ("x.__class__", "unexpected character '.'"),
    ("os.system('ls')", "unexpected character '.'"),
    ("x[0]", "unexpected character '['"),
    ("lambda: 1", "unexpected character ':'"),
    ("x if x else 1", "expected an operator before 'if'"),
    ("open(x)", "unknown function 'open'"),
    ("eval(x)", "unknown function 'eval'"),
    ("exp", "exp is a function; write exp(x)"),
    ("exp(x, 2)", "exp takes one argument"),
    ("2x", "write 2*x"),
    ("x y", "expected an operator before 'y'"),
    ("(x", "expected ')'"),
    ("x)", "unexpected ')'"),
    ("sin(x", "to close sin("),
    ("", "empty"),
    ("   ", "empty"),
    ("1e999", "too large for float64"),
    ("9**9**9**9", "exponent 3.8742e+08 is too large"),
    ("x**9**9", "too large"),
    ("x**-2000", "too large"),
    ("10**308*10", "not a finite number"),
    ("1/0", "not a finite number"),
    ("log(-1)", "not a finite number"),
    ("x == 1", "unexpected character '='"),
    ("x; 1", "unexpected character ';'"),
    ("x @ y", "unexpected character '@'"),
    ("'x'", "unexpected character"),
    ("x\n+ 1;", "unexpected character ';'"),
    ("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1), "nested too deeply"),
    ("-" * (MAX_DEPTH + 5) + "x", "nested too deeply"),
    ("x**" * 60 + "x", "nested too deeply"),
    ("sin(" * 60 + "x" + ")" * 60, "nested too deeply"),
    ("x+" * (MAX_LENGTH // 2) + "x", "characters long"),
    # Python's own words and operators, which its parser would read: refused by the whitelist.
    ("True", "'True' cannot be a variable name"),
    ("None + x", "'None' cannot be a variable name"),
    ("not x", "expected an operator before 'x'"),
    ("x//2", "not part of the formula language"),
    ("x, y", "not part of the formula language"),
    ("sin x", "sin is a function; write sin(x)"),
    ("1j", "expected an operator before 'j'"),
    ("0x1f", "expected an operator before 'x1f'"),
]


@pytest.mark.parametrize("text, message", REFUSED, ids=[repr(t[0])[:30] for t in REFUSED])
def test_refusals_are_one_line(text, message):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_error_class_maps_to_exit_status_2():
    assert issubclass(ExpressionError, ValueError) and issubclass(ExpressionError, NnlearnError)
    assert ExpressionError.exit_code == 2


def test_fixed_variables_refuse_other_names():
    with pytest.raises(ExpressionError, match="unknown name 'y'"):
        parse_expression("x + y", variables=["x"])
    with pytest.raises(ExpressionError, match="cannot be a variable name"):
        parse_expression("x", variables=["exp"])


def test_long_but_legal_formula_is_fine():
    text = " + ".join(f"{k}*x**{k % 7}" for k in range(1, 80))
    assert len(text) < MAX_LENGTH
    f = parse_expression(text)
    assert float(f(1.0)) == sum(range(1, 80))


def test_never_calls_eval_or_exec_and_compiles_only_to_a_tree(monkeypatch):
    real_compile = builtins.compile

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec was called")

    def tree_only(source, filename, mode, flags=0, *args, **kwargs):
        # ast.parse is compile(..., flags=PyCF_ONLY_AST): reading, never code that could run.
        assert flags & ast.PyCF_ONLY_AST, "compile was asked for code"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "compile", tree_only)
    f = parse_expression("exp(-x0) * sin(x1) + 2^x0")
    assert float(f(0.0, math.pi / 2)) == 2.0
    with pytest.raises(ExpressionError):
        parse_expression("__import__('os').system('true')")


def test_every_function_accepts_float_and_array():
    for name in FUNCTIONS:
        f = parse_expression(f"{name}(x)")
        x = 1.5 if "cosh" in name and name != "cosh" else 0.5  # arccosh needs x >= 1
        assert np.isfinite(f(x))
        assert f(np.array([x, 2 * x])).shape == (2,)


# Random arithmetic: a formula and its value, built side by side (the oracle is plain Python).
_leaf = st.integers(1, 9).map(lambda n: (str(n), float(n)))


def _combine(children):
    def build(args):
        (a, va), op, (b, vb) = args
        if op == "+":
            return f"({a} + {b})", va + vb
        if op == "-":
            return f"({a} - {b})", va - vb
        if op == "*":
            return f"({a} * {b})", va * vb
        if vb == 0:  # (1 - 1) as a divisor: refused as "not a finite number", tested above
            return f"({a} + {b})", va + vb
        return f"({a} / {b})", va / vb

    return st.tuples(children, st.sampled_from("+-*/"), children).map(build)


@settings(max_examples=100, deadline=None)
@given(st.recursive(_leaf, _combine, max_leaves=12))
def test_random_arithmetic_matches_python(pair):
    text, expected = pair
    assert value(text) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_leading_zeros_are_read_as_in_mathematics():
    # Python refuses 007; the formula language reads it as 7.
    assert value("007 + 00.5") == 7.5
    assert parse_expression("x * 010")(2.0) == 20.0


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="x0123456789.eE+-*/^(), _abinoprstl\n'[:=", max_size=40))
def test_any_text_is_a_formula_or_a_one_line_refusal(text):
    try:
        f = parse_expression(text)
    except ExpressionError as e:
        assert "\n" not in str(e)
    else:
        assert np.shape(f(*([0.5] * len(f.variables) or [0.5]))) == ()
