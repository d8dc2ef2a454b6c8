"""A small, safe language for formulas typed by a user, such as ``0.01*x**2 + 0.1*x``.

Python's parser (:func:`ast.parse`) reads the text; a whitelist walks the tree and allows only
numbers, variables, ``+ - * / **`` (``^`` too), signs, parentheses, the constants ``pi`` and ``e`` and
calls of :data:`FUNCTIONS`. The tree is never compiled: a small evaluator applies NumPy to each node
(float64, float32, complex for :func:`nnlearn.derivative`'s complex step, arrays). Anything else is a
one-line :class:`ExpressionError`, quickly: the text, the nesting and the exponents are bounded, and
a constant part that overflows (``9**9**9**9``) is refused when it is read, not computed for ever.
"""

from __future__ import annotations

import ast
import keyword
import re

import numpy as np

from nnlearn.base.constraints import check_numbers
from nnlearn.base.errors import InputTypeError, NnlearnError
from nnlearn.base.i18n import _

MAX_LENGTH = 1000
MAX_DEPTH = 50
MAX_VARIABLES = 32
#: Larger constant exponents overflow float64 for any base above 2 and are almost surely a typo.
MAX_EXPONENT = 1024


class ExpressionError(NnlearnError, ValueError):
    """A formula that the restricted parser refuses; the message says where and why."""

    exit_code = 2


class _NotAnalytic(TypeError):
    """Raised by abs and relu on complex input: they have no complex derivative, so a complex
    step through them would be wrong; refusing makes ``derivative`` fall back to real steps."""


def _real_only(name, f):
    def real(x):
        if np.iscomplexobj(x):
            raise _NotAnalytic(f"{name} is not analytic; no complex step through it")
        return f(x)

    return real


def _sigmoid(x):
    # nnlearn.sigmoid's formula, exp(-|x|) on either side so that nothing overflows, written with
    # x's real part so that it stays analytic for a complex step.
    pos = np.real(x) >= 0
    e = np.exp(np.where(pos, -x, x))
    return np.where(pos, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(x):
    if not np.iscomplexobj(x):
        return np.logaddexp(0.0, x)
    pos = np.real(x) >= 0
    return np.where(pos, x, 0.0) + np.log1p(np.exp(np.where(pos, -x, x)))


_NUMPY_FUNCTIONS = """
    exp expm1 log log10 log2 log1p sqrt sin cos tan arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh
"""
#: name -> NumPy function of one argument. All but abs and relu are analytic and accept complex.
FUNCTIONS = {name: getattr(np, name) for name in _NUMPY_FUNCTIONS.split()}
FUNCTIONS |= {
    "ln": np.log,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "asinh": np.arcsinh,
    "acosh": np.arccosh,
    "atanh": np.arctanh,
    "abs": _real_only("abs", np.abs),
    "relu": _real_only("relu", lambda x: np.maximum(0.0, x)),
    "sigmoid": _sigmoid,
    "softplus": _softplus,
}
CONSTANTS = {"pi": np.pi, "e": np.e}
_BINARY = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide, ast.Pow: np.power}
_NUMBER = r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
#: Read before Python reads anything: any character outside the language (no strings, brackets,
#: attributes, '=', ':' or ';', nothing but ASCII) is refused here, so Python's parser only sees arithmetic.
_TOKEN = re.compile(rf"(?P<number>{_NUMBER})|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>\*\*|[-+*/^(),])|(?P<other>\S)")


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Reader:
    """Checks a formula against the whitelist, folding its constant parts to float64 as it goes."""

    def __init__(self, text: str, variables):
        self.text = text
        self.fixed = variables is not None
        self.variables: list[str] = list(variables) if variables is not None else []
        # What Python reads: in parentheses (so that spaces and line breaks anywhere are fine), ^ as **;
        # where[i] is the position in the typed text of Python's character i.
        # Leading zeros (007) become spaces: Python refuses them, the formula language reads 7.
        spaced = re.sub(r"\s|(?<![\w.])0+(?=[0-9])", lambda m: " " * len(m.group()), text)
        self.python = "(" + spaced.replace("^", "**") + ")"
        self.where = [0] + [i for i, char in enumerate(text) for _twice in range(1 + (char == "^"))] + [len(text)] * 2

    def fail(self, message, pos):
        raise ExpressionError(
            _(
                "{message} at position {position} in {text!r}",
                message=message,
                position=pos + 1,
                text=_shorten(self.text),
            )
        )

    def too_deep(self, pos):
        self.fail(_("the formula is nested too deeply (more than {most} levels)", most=MAX_DEPTH), pos)

    def piece(self, node) -> tuple[str, int]:
        """The typed text of a node, and where it starts."""
        start, end = self.where[node.col_offset], self.where[node.end_col_offset]
        return self.text[start:end], start

    def read(self) -> ast.expr:
        if not self.text.strip():
            raise ExpressionError(_("the formula is empty; write one in x, such as 'x**2 + 1'"))
        self.check_tokens()
        try:
            tree = ast.parse(self.python, mode="eval").body
        except SyntaxError as e:  # what check_tokens leaves to Python: an operator without operand (x+, *x, x+*y)
            token = _TOKEN.search(self.text, self.where[min(max((e.offset or 1) - 1, 0), len(self.python) - 1)])
            found = repr(token.group()) if token else _("the end of the formula")
            self.fail(
                _("expected a number, a variable or '(' but found {found}", found=found),
                token.start() if token else len(self.text),
            )
        except (RecursionError, MemoryError):
            self.too_deep(0)
        return self.node(tree, 0)

    def outside(self, char, pos):
        raise ExpressionError(
            _(
                "unexpected character {char!r} at position {position} in {text!r}; formulas use numbers, variables, "
                "+ - * / ** ^, parentheses and functions such as exp(x)",
                char=char,
                position=pos + 1,
                text=_shorten(self.text),
            )
        )

    def check_tokens(self):
        """Parentheses that match and nest at most MAX_DEPTH deep; no operand right after another (2x,
        x y, x if y, (x)(y)), which Python reads as a call or as "invalid syntax"."""
        opened, before, previous, word = [], "op", ("", 0), None
        for token in _TOKEN.finditer(self.text):
            tok, pos, kind = token.group(), token.start(), token.lastgroup
            if kind == "other":
                self.outside(tok, pos)
            if (kind != "op" or tok == "(") and before in ("number", "name", ")") and (tok, before) != ("(", "name"):
                if previous[0] in FUNCTIONS:
                    self.fail(_("{name} is a function; write {name}(x)", name=previous[0]), previous[1])
                self.fail(_("expected an operator before {tok!r} (write 2*x, not 2x)", tok=tok), pos)
            if kind == "name" and keyword.iskeyword(tok) and word is None:  # if, not, None: Python's words
                word = (tok, pos)
            if tok == "(":
                opened.append(pos)
                if len(opened) > MAX_DEPTH:
                    self.too_deep(pos)
            elif tok == ")":
                if not opened:
                    self.fail(_("unexpected {tok!r}", tok=")"), pos)
                opened.pop()
            before, previous = ")" if tok == ")" else kind, (tok, pos)
        if word:  # after the characters: "lambda: 1" is refused for its ':'
            self.fail(_("{name!r} cannot be a variable name", name=word[0]), word[1])
        if opened:
            name = re.search(r"[A-Za-z_]\w*\s*$", self.text[: opened[-1]])
            what = _("')' to close {name}(", name=name.group().strip()) if name else "')'"
            self.fail(_("expected {what} but found {found}", what=what, found=_("the end")), len(self.text))

    def node(self, node, depth) -> ast.expr:
        """The checked node, a float64 ast.Constant where it does not depend on the variables. ``depth``
        counts signs, calls and right operands: a long sum (its left operands) costs nothing."""
        if depth > MAX_DEPTH:
            self.too_deep(self.piece(node)[1])
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            spine = []  # a + b + c is ((a + b) + c): walk down the left operands without recursion
            while isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
                spine.append(node)
                node = node.left
            out = self.node(node, depth)
            for op in reversed(spine):
                right = self.node(op.right, depth + 1)
                if isinstance(op.op, ast.Pow) and isinstance(right, ast.Constant) and abs(right.value) > MAX_EXPONENT:
                    self.fail(
                        _(
                            "the exponent {value:.6g} is too large in magnitude (the limit is {most}; float64 "
                            "overflows near 1.8e308)",
                            value=right.value,
                            most=MAX_EXPONENT,
                        ),
                        self.piece(op.right)[1],
                    )
                out = self.fold(ast.BinOp(out, op.op, right), op)
            return out
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            operand = self.node(node.operand, depth + 1)
            return operand if isinstance(node.op, ast.UAdd) else self.fold(ast.UnaryOp(node.op, operand), node)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Name):
            return self.name(node)
        text, pos = self.piece(node)
        if isinstance(node, ast.Constant) and re.fullmatch(_NUMBER, text):
            value = np.float64(float(text))
            if not np.isfinite(value):
                self.fail(_("the number {number!r} is too large for float64", number=_shorten(text, 20)), pos)
            return ast.copy_location(ast.Constant(value), node)
        self.fail(
            _(
                "{piece!r} is not part of the formula language (numbers, variables, + - * / ** ^, parentheses "
                "and functions such as exp(x))",
                piece=_shorten(text, 20),
            ),
            pos,
        )

    def call(self, node, depth):
        if not isinstance(node.func, ast.Name):  # pragma: no cover - 2(x) and (x)(y) were refused by check_tokens
            self.fail(_("unexpected {tok!r}", tok="("), self.where[node.func.end_col_offset])
        name, (_text, pos) = node.func.id, self.piece(node)
        if name not in FUNCTIONS:
            self.fail(
                _(
                    "unknown function {name!r}; the allowed functions are {allowed}",
                    name=_shorten(name, 20),
                    allowed=", ".join(sorted(FUNCTIONS)),
                ),
                pos,
            )
        if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
            self.fail(_("{name} takes one argument", name=name), pos)
        return self.fold(ast.Call(node.func, [self.node(node.args[0], depth + 1)], []), node)

    def name(self, node):
        tok, pos = node.id, self.piece(node)[1]
        if tok.startswith("_"):
            self.fail(_("names may not start with '_' ({tok!r})", tok=tok), pos)
        if tok in CONSTANTS:
            return ast.copy_location(ast.Constant(np.float64(CONSTANTS[tok])), node)
        if tok in FUNCTIONS:
            self.fail(_("{name} is a function; write {name}(x)", name=tok), pos)
        if tok not in self.variables:
            if self.fixed:
                if not self.variables:
                    self.fail(
                        _(
                            "unknown name {name!r}: a number or a constant such as pi is expected here",
                            name=_shorten(tok, 20),
                        ),
                        pos,
                    )
                self.fail(
                    _(
                        "unknown name {name!r} (the variables are: {known})",
                        name=_shorten(tok, 20),
                        known=", ".join(self.variables),
                    ),
                    pos,
                )
            if len(self.variables) >= MAX_VARIABLES:
                self.fail(_("too many variables (at most {most})", most=MAX_VARIABLES), pos)
            self.variables.append(tok)
        return node

    def fold(self, new, old):
        """``new`` in ``old``'s place; computed now, in float64, when its operands are all constants."""
        ast.copy_location(new, old)
        operands = (
            [new.operand]
            if isinstance(new, ast.UnaryOp)
            else new.args
            if isinstance(new, ast.Call)
            else (new.left, new.right)
        )
        if not all(isinstance(o, ast.Constant) for o in operands):
            return new
        with np.errstate(all="ignore"):
            value = np.float64(_evaluate(new, {}, None))
        if not np.isfinite(value):
            raise ExpressionError(
                _(
                    "the constant {span!r} is not a finite number in float64 (overflow, division by "
                    "zero or outside the domain of a function)",
                    span=_shorten(self.piece(old)[0]),
                )
            )
        return ast.copy_location(ast.Constant(value), old)


def _evaluate(node, values, const_type):
    """The value of a checked tree; constants are float64, or ``const_type`` (``numpy.float32``) so
    that nothing widens the precision."""
    if isinstance(node, ast.Constant):
        return node.value if const_type is None else const_type(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        return np.negative(_evaluate(node.operand, values, const_type))
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id](_evaluate(node.args[0], values, const_type))
    spine = []  # as in _Reader.node: the left operands of a long sum without recursion
    while isinstance(node, ast.BinOp):
        spine.append(node)
        node = node.left
    out = _evaluate(node, values, const_type)
    for op in reversed(spine):
        out = _BINARY[type(op.op)](out, _evaluate(op.right, values, const_type))
    return out


def _natural_key(name: str):
    """x2 before x10: letters, then the number."""
    m = re.fullmatch(r"(.*?)(\d*)", name)
    return (m.group(1), int(m.group(2)) if m.group(2) else -1)


class Expression:
    """A parsed formula (``text`` as typed); call it with one value (array, complex) per name of
    ``variables``, in their order (``x0, x1, ..., x10``; else alphabetical)."""

    def __init__(self, text: str, tree: ast.expr, variables):
        self.text = text
        self.variables = tuple(variables)
        self._tree = tree

    def __call__(self, *values, dtype=np.float64):
        """The formula at ``values``, computed in ``dtype``: float64 (complex128 for complex values),
        or float32 (complex64) to see what single precision does, as the board's lesson does."""
        if len(values) != len(self.variables) and not (not self.variables and len(values) == 1):
            names = ", ".join(self.variables) or _("no variables")
            raise InputTypeError(
                _(
                    "{text!r} takes {n} value(s) ({names}), got {given}",
                    text=self.text,
                    n=len(self.variables),
                    names=names,
                    given=len(values),
                )
            )
        try:
            precision = np.dtype(dtype).type
        except TypeError:
            precision = None
        if precision not in (np.float64, np.float32):
            raise InputTypeError(_("dtype must be numpy.float64 or numpy.float32, got {dtype!r}", dtype=dtype))
        dtype = precision
        complex_type = np.complex128 if dtype is np.float64 else np.complex64
        arrays = []
        for name, v in zip(self.variables or ("x",), values):
            v = check_numbers(v, name)
            arrays.append(np.asarray(v, dtype=complex_type if np.iscomplexobj(v) else dtype))
        with np.errstate(all="ignore"):
            out = _evaluate(self._tree, dict(zip(self.variables, arrays)), None if dtype is np.float64 else dtype)
            if not self.variables and arrays:
                out = out + np.zeros_like(arrays[0])
        return np.asarray(out)[()]

    def __repr__(self):
        return f"Expression({self.text!r}, variables={self.variables})"


def parse_expression(text: str, variables=None) -> Expression:
    """Parse a formula into an :class:`Expression`, refusing anything outside the small language.

    ``text`` is e.g. ``"0.01*x**2 + 0.1*x"``, ``"x0**2 + x1**2"``, ``"sigmoid(3*x - 1)"`` or ``"2^-x"``;
    ``variables`` the allowed variable names in call order (by default every other name, ordered
    naturally: x0, x1, ..., x10). Anything else is an :class:`ExpressionError` (a ValueError).

    Examples
    --------
    >>> f = parse_expression("0.01*x**2 + 0.1*x")
    >>> f.variables, float(f(5.0))
    (('x',), 0.75)
    >>> complex(f(5 + 1e-20j)), f(np.float32(5.0), dtype=np.float32).dtype
    ((0.75+2e-21j), dtype('float32'))
    >>> parse_expression("__import__('os')")
    Traceback (most recent call last):
    ...
    nnlearn.common.derivatives.expr.ExpressionError: unexpected character "'" at position 12 in "__import__('os')"; formulas use numbers, variables, + - * / ** ^, parentheses and functions such as exp(x)
    >>> parse_expression("9**9**9**9")
    Traceback (most recent call last):
    ...
    nnlearn.common.derivatives.expr.ExpressionError: the exponent 3.8742e+08 is too large in magnitude (the limit is 1024; float64 overflows near 1.8e308) at position 7 in '9**9**9**9'
    """
    if not isinstance(text, str):
        raise ExpressionError(_("a formula must be text, got {type}", type=type(text).__name__))
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            _("the formula is {n} characters long; the limit is {most}", n=len(text), most=MAX_LENGTH)
        )
    if variables is not None:
        if isinstance(variables, str) or not isinstance(variables, (list, tuple)):
            raise ExpressionError(
                _("variables must be a list of names such as ['x0', 'x1'], got {variables!r}", variables=variables)
            )
        variables = [str(v) for v in variables]
        for v in variables:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", v) or v in FUNCTIONS or v in CONSTANTS:
                raise ExpressionError(_("{name!r} cannot be a variable name", name=v))
    reader = _Reader(text, variables)
    tree = reader.read()
    names = reader.variables if variables is not None else sorted(reader.variables, key=_natural_key)
    return Expression(text, tree, names)
