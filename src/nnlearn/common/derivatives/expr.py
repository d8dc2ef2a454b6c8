"""A small, safe language for formulas typed by a user, such as ``0.01*x**2 + 0.1*x``.

The text is split into tokens and read by a recursive-descent parser that knows only numbers,
variables, ``+ - * / **`` (``^`` is also a power), parentheses, a whitelist of functions and the
constants ``pi`` and ``e``. Nothing is ever passed to ``eval``: the parsed formula becomes a short
list of NumPy operations evaluated on a stack. It evaluates on float64, on complex numbers (so that
:func:`nnlearn.derivative` can take a complex step) and on arrays.

Everything else is refused with a one-line :class:`ExpressionError` (exit status 2 on the command
line), quickly: the text, the nesting and the exponents are bounded, and a constant part that
overflows (``9**9**9**9``) is refused when it is read, not computed for ever.
"""

from __future__ import annotations

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


def _abs(x):
    if np.iscomplexobj(x):
        raise _NotAnalytic("abs is not analytic; no complex step through it")
    return np.abs(x)


def _relu(x):
    if np.iscomplexobj(x):
        raise _NotAnalytic("relu is not analytic; no complex step through it")
    return np.maximum(0.0, x)


def _sigmoid(x):
    if not np.iscomplexobj(x):
        # exp(-|x|) never overflows; the same formula as nnlearn.sigmoid.
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    # The analytic formula, in the form that does not overflow on either side.
    pos = np.real(x) >= 0
    e = np.exp(np.where(pos, -x, x))
    return np.where(pos, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(x):
    if not np.iscomplexobj(x):
        return np.logaddexp(0.0, x)
    pos = np.real(x) >= 0
    return np.where(pos, x, 0.0) + np.log1p(np.exp(np.where(pos, -x, x)))


#: name -> NumPy function of one argument. All but abs and relu are analytic and accept complex.
FUNCTIONS = {
    "exp": np.exp,
    "expm1": np.expm1,
    "log": np.log,
    "ln": np.log,
    "log10": np.log10,
    "log2": np.log2,
    "log1p": np.log1p,
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "arcsin": np.arcsin,
    "asin": np.arcsin,
    "arccos": np.arccos,
    "acos": np.arccos,
    "arctan": np.arctan,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "arcsinh": np.arcsinh,
    "asinh": np.arcsinh,
    "arccosh": np.arccosh,
    "acosh": np.arccosh,
    "arctanh": np.arctanh,
    "atanh": np.arctanh,
    "abs": _abs,
    "relu": _relu,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
}
CONSTANTS = {"pi": np.pi, "e": np.e}
_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power, "^": np.power}

_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^(),])"
)


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExpressionError(_(
                "unexpected character {char!r} at position {position} in {text!r}; formulas use numbers, variables, "
                "+ - * / ** ^, parentheses and functions such as exp(x)", char=text[pos], position=pos + 1,
                text=_shorten(text)))
        if m.lastgroup != "space":
            tokens.append((m.lastgroup, m.group(), pos))
        pos = m.end()
    tokens.append(("end", "", len(text)))
    return tokens


class _Node:
    """A parsed piece of the formula: its postfix program, its text span, and its value if constant."""

    __slots__ = ("program", "start", "end", "value")

    def __init__(self, program, start, end, value=None):
        self.program = program
        self.start = start
        self.end = end
        self.value = value


def _run(program, values, const_type=None):
    """Evaluate a postfix program on a stack (no recursion, so long formulas are fine); constants
    are float64, or ``const_type`` (``numpy.float32``) so that nothing widens the precision."""
    stack = []
    for op, arg in program:
        if op == "const":
            stack.append(arg if const_type is None else const_type(arg))
        elif op == "var":
            stack.append(values[arg])
        elif op == "neg":
            stack.append(np.negative(stack.pop()))
        elif op == "bin":
            right = stack.pop()
            stack.append(arg(stack.pop(), right))
        else:  # "call"
            stack.append(arg(stack.pop()))
    return stack.pop()


class _Parser:
    def __init__(self, text: str, variables):
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.fixed = variables is not None
        self.variables: list[str] = list(variables) if variables is not None else []

    # -- helpers --------------------------------------------------------------------------
    def peek(self):
        return self.tokens[self.i]

    def take(self):
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, message, pos):
        raise ExpressionError(_("{message} at position {position} in {text!r}", message=message, position=pos + 1,
                                text=_shorten(self.text)))

    def expect(self, text, what):
        kind, tok, pos = self.take()
        if kind != "op" or tok != text:
            found = _("the end") if kind == "end" else repr(tok)
            self.fail(_("expected {what} but found {found}", what=what, found=found), pos)

    def enter(self, pos):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(_("the formula is nested too deeply (more than {most} levels)", most=MAX_DEPTH), pos)

    def make(self, program, start, end, children):
        """Build a node; fold it to a constant when all its children are constants."""
        node = _Node(program, start, end)
        if children and all(c.value is not None for c in children):
            with np.errstate(all="ignore"):
                value = _run(program, [])
            if not np.isfinite(value):
                span = _shorten(self.text[start:end])
                raise ExpressionError(_("the constant {span!r} is not a finite number in float64 (overflow, division by "
                                        "zero or outside the domain of a function)", span=span))
            node.program, node.value = [("const", np.float64(value))], np.float64(value)
        return node

    # -- grammar --------------------------------------------------------------------------
    # expr  := term (('+' | '-') term)*
    # term  := unary (('*' | '/') unary)*
    # unary := ('-' | '+') unary | power
    # power := atom (('**' | '^') unary)?          right-associative; -x**2 is -(x**2)
    # atom  := number | name | name '(' expr ')' | '(' expr ')'
    def parse(self):
        if not self.text.strip():
            raise ExpressionError(_("the formula is empty; write one in x, such as 'x**2 + 1'"))
        node = self.expr()
        kind, tok, pos = self.peek()
        if kind != "end":
            if kind in ("number", "name") or tok == "(":
                self.fail(_("expected an operator before {tok!r} (write 2*x, not 2x)", tok=tok), pos)
            self.fail(_("unexpected {tok!r}", tok=tok), pos)
        return node

    def expr(self):
        node = self.term()
        while self.peek()[1] in ("+", "-") and self.peek()[0] == "op":
            op = self.take()[1]
            right = self.term()
            node = self.make(node.program + right.program + [("bin", _BINARY[op])], node.start, right.end, [node, right])
        return node

    def term(self):
        node = self.unary()
        while self.peek()[1] in ("*", "/") and self.peek()[0] == "op":
            op = self.take()[1]
            right = self.unary()
            node = self.make(node.program + right.program + [("bin", _BINARY[op])], node.start, right.end, [node, right])
        return node

    def unary(self):
        kind, tok, pos = self.peek()
        if kind == "op" and tok in ("-", "+"):
            self.take()
            self.enter(pos)
            operand = self.unary()
            self.depth -= 1
            if tok == "+":
                return _Node(operand.program, pos, operand.end, operand.value)
            return self.make(operand.program + [("neg", None)], pos, operand.end, [operand])
        return self.power()

    def power(self):
        base = self.atom()
        kind, tok, pos = self.peek()
        if kind == "op" and tok in ("**", "^"):
            self.take()
            self.enter(pos)
            exponent = self.unary()
            self.depth -= 1
            if exponent.value is not None and abs(exponent.value) > MAX_EXPONENT:
                self.fail(_("the exponent {value:.6g} is too large in magnitude (the limit is {most}; float64 overflows "
                            "near 1.8e308)", value=exponent.value, most=MAX_EXPONENT), exponent.start)
            return self.make(base.program + exponent.program + [("bin", np.power)], base.start, exponent.end, [base, exponent])
        return base

    def atom(self):
        kind, tok, pos = self.take()
        if kind == "number":
            value = float(tok)
            if not np.isfinite(value):
                self.fail(_("the number {number!r} is too large for float64", number=_shorten(tok, 20)), pos)
            return _Node([("const", np.float64(value))], pos, pos + len(tok), np.float64(value))
        if kind == "name":
            return self.name(tok, pos)
        if tok == "(":
            self.enter(pos)
            node = self.expr()
            self.expect(")", "')'")
            self.depth -= 1
            return _Node(node.program, pos, self.tokens[self.i - 1][2] + 1, node.value)
        found = _("the end of the formula") if kind == "end" else repr(tok)
        self.fail(_("expected a number, a variable or '(' but found {found}", found=found), pos)

    def name(self, tok, pos):
        end = pos + len(tok)
        is_call = self.peek()[1] == "(" and self.peek()[0] == "op"
        if tok.startswith("_"):
            self.fail(_("names may not start with '_' ({tok!r})", tok=tok), pos)
        if is_call:
            if tok not in FUNCTIONS:
                allowed = ", ".join(sorted(FUNCTIONS))
                self.fail(_("unknown function {name!r}; the allowed functions are {allowed}", name=_shorten(tok, 20),
                            allowed=allowed), pos)
            self.take()
            self.enter(pos)
            argument = self.expr()
            if self.peek()[1] == ",":
                self.fail(_("{name} takes one argument", name=tok), self.peek()[2])
            self.expect(")", _("')' to close {name}(", name=tok))
            self.depth -= 1
            return self.make(argument.program + [("call", FUNCTIONS[tok])], pos, self.tokens[self.i - 1][2] + 1, [argument])
        if tok in CONSTANTS:
            return _Node([("const", np.float64(CONSTANTS[tok]))], pos, end, np.float64(CONSTANTS[tok]))
        if tok in FUNCTIONS:
            self.fail(_("{name} is a function; write {name}(x)", name=tok), pos)
        if tok not in self.variables:
            if self.fixed:
                if not self.variables:
                    self.fail(_("unknown name {name!r}: a number or a constant such as pi is expected here",
                                name=_shorten(tok, 20)), pos)
                known = ", ".join(self.variables)
                self.fail(_("unknown name {name!r} (the variables are: {known})", name=_shorten(tok, 20), known=known),
                          pos)
            if len(self.variables) >= MAX_VARIABLES:
                self.fail(_("too many variables (at most {most})", most=MAX_VARIABLES), pos)
            self.variables.append(tok)
        return _Node([("var", tok)], pos, end)


def _natural_key(name: str):
    """x2 before x10: letters, then the number."""
    m = re.fullmatch(r"(.*?)(\d*)", name)
    return (m.group(1), int(m.group(2)) if m.group(2) else -1)


class Expression:
    """A parsed formula; call it with one value (array, complex) per variable.

    Attributes
    ----------
    text : str
        The formula as typed.
    variables : tuple of str
        Its variables in the order the call takes them (``x0, x1, ..., x10``; else alphabetical).
    """

    def __init__(self, text: str, program, variables):
        self.text = text
        self.variables = tuple(variables)
        index = {name: i for i, name in enumerate(self.variables)}
        self._program = [("var", index[arg]) if op == "var" else (op, arg) for op, arg in program]

    def __call__(self, *values, dtype=np.float64):
        """The formula at ``values``, computed in ``dtype``: float64 (complex128 for complex values),
        or float32 (complex64) to see what single precision does, as the board's lesson does."""
        if len(values) != len(self.variables) and not (not self.variables and len(values) == 1):
            names = ", ".join(self.variables) or _("no variables")
            raise InputTypeError(_("{text!r} takes {n} value(s) ({names}), got {given}", text=self.text,
                                   n=len(self.variables), names=names, given=len(values)))
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
            out = _run(self._program, arrays, None if dtype is np.float64 else dtype)
            if not self.variables and arrays:
                out = out + np.zeros_like(arrays[0])
        return np.asarray(out)[()]

    def __repr__(self):
        return f"Expression({self.text!r}, variables={self.variables})"


def parse_expression(text: str, variables=None) -> Expression:
    """Parse a formula into an :class:`Expression`, refusing anything outside the small language.

    Parameters
    ----------
    text : str
        E.g. ``"0.01*x**2 + 0.1*x"``, ``"x0**2 + x1**2"``, ``"sigmoid(3*x - 1)"``, ``"2^-x"``.
    variables : sequence of str, optional
        The allowed variable names, in call order. By default every other name is a variable,
        ordered naturally (x0, x1, ..., x10) or alphabetically.

    Raises
    ------
    ExpressionError
        (a ValueError, exit status 2) for anything else: other characters or names, calls outside
        :data:`FUNCTIONS`, more than :data:`MAX_LENGTH` characters or :data:`MAX_DEPTH` levels,
        constant exponents above :data:`MAX_EXPONENT`, constants that are not finite.

    Examples
    --------
    >>> f = parse_expression("0.01*x**2 + 0.1*x")
    >>> f.variables, float(f(5.0))
    (('x',), 0.75)
    >>> f(np.array([0.0, 10.0]))
    array([0., 2.])
    >>> complex(f(5 + 1e-20j))
    (0.75+2e-21j)
    >>> f(np.float32(5.0), dtype=np.float32).dtype
    dtype('float32')
    >>> g = parse_expression("x0**2 + x1**2")
    >>> g.variables, float(g(3.0, 4.0))
    (('x0', 'x1'), 25.0)
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
        raise ExpressionError(_("the formula is {n} characters long; the limit is {most}", n=len(text), most=MAX_LENGTH))
    if variables is not None:
        if isinstance(variables, str) or not isinstance(variables, (list, tuple)):
            raise ExpressionError(_("variables must be a list of names such as ['x0', 'x1'], got {variables!r}",
                                    variables=variables))
        variables = [str(v) for v in variables]
        for v in variables:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", v) or v in FUNCTIONS or v in CONSTANTS:
                raise ExpressionError(_("{name!r} cannot be a variable name", name=v))
    parser = _Parser(text, variables)
    node = parser.parse()
    names = parser.variables if variables is not None else sorted(parser.variables, key=_natural_key)
    return Expression(text, node.program, names)
