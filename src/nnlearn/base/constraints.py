"""The one vocabulary of validation: what a setting or an argument may hold, each rule and its message once.

Settings, networks, optimizers and the chapter's functions check their inputs here: the rule of each
argument the book names is in :data:`RULES`, the rules of arrays are the ``check_*`` functions. A refusal
says :data:`MUST_BE`, :data:`UNKNOWN` or one array rule's message (tests/test_rules.py holds them to it).
A :class:`Constraint` (scikit-learn's ``_parameter_constraints`` is the model) checks and normalises a
value (``check``), reads a command-line word without ``eval`` (``parse``) and says how a sweep may search
it (``sweep_kinds``).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, fields

import numpy as np

from nnlearn.base.errors import InputError, InputTypeError
from nnlearn.base.i18n import N_, _

#: The refusals of a setting or argument: "NAME must be WHAT, got VALUE" and "unknown NAME VALUE; choose one
#: of ...", each followed by "; HINT" where the rule has one (the book's value, an example).
MUST_BE = N_("{name} must be {what}, got {value!r}")
UNKNOWN = N_("unknown {name} {value!r}; choose one of {options}")
HINT = N_("; {hint}")
#: The refusal of a word typed for a flag (argparse names the flag before it).
MUST_BE_WORD = N_("must be {what}, got {text!r}")


def number_of(text, kind=float):
    """The ``int`` or ``float`` (``kind``) a typed word stands for, from ASCII characters only; else ValueError.

    Python's ``int`` and ``float`` read any script's digits (``int("١٢")`` is 12, so ``--port ١٢`` bound
    port 12); a number typed for nnlearn is written in ASCII.

    Examples
    --------
    >>> number_of("12", int), number_of(" 1e-3 ")
    (12, 0.001)
    >>> number_of("١٢", int)
    Traceback (most recent call last):
    ...
    ValueError: '١٢' is not a number written in ASCII digits
    """
    if not isinstance(text, str) or not text.isascii():
        raise ValueError(_("{text!r} is not a number written in ASCII digits", text=text))
    return kind(text)


def number_or_text(text, *kinds):
    """The number ``text`` stands for (:func:`number_of`, the first of ``kinds`` that reads it), else ``text``
    itself, for the constraint's check to name."""
    for kind in kinds:
        try:
            return number_of(text, kind)
        except ValueError:
            continue
    return text


class Constraint:
    """Base class: what a setting may hold (see the module's docstring)."""

    #: The values in words, completing "NAME must be ...": a message of the catalogue and its fields.
    what_message: tuple = (N_("a value"), {})
    sweep_kinds: tuple = ("choice",)
    #: The placeholder of the value in ``--help`` (None: argparse's own).
    metavar: str | None = None

    def __init__(self, hint: str = ""):
        #: Said after the refusal: the book's value, an example (a message of the catalogue, marked N_).
        self.hint = hint

    def what_said(self) -> str:
        """The values in words, in the current language."""
        msgid, fields = self.what_message
        return _(msgid, **fields)

    def hint_said(self) -> str:
        """``; `` and the hint in the current language, or nothing."""
        return _(HINT, hint=_(self.hint)) if self.hint else ""

    #: The error a refusal raises: InputError (a ValueError); a rule about a value's type (True/False, a
    #: function) raises InputTypeError (a TypeError).
    error = InputError

    def refuse(self, value, name: str):
        return self.error(_(MUST_BE, name=name, what=self.what_said(), value=value) + self.hint_said())

    def refuse_word(self, text: str) -> str:
        """The refusal of ``text`` typed for a flag of this setting, in the current language."""
        return _(MUST_BE_WORD, what=self.what_said(), text=text) + self.hint_said()

    def check(self, value, name: str):  # pragma: no cover - abstract
        raise NotImplementedError

    def parse(self, text: str):
        """The value a command-line word stands for (checked by :meth:`check` afterwards)."""
        return text


class Number(Constraint):
    """A finite number (``kind=int``: a whole number) between ``low`` and ``high``.

    Examples
    --------
    >>> Number(float, 0, None, low_open=True).check(0.1, "lr")
    0.1
    >>> Number(float, 0, 1, high_open=True, hint="the book uses 0.2").check(1.5, "dropout")
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.InputError: dropout must be a number in [0, 1), got 1.5; the book uses 0.2
    """

    def __init__(self, kind, low=None, high=None, *, low_open=False, high_open=False, hint: str = ""):
        super().__init__(hint)
        self.kind, self.low, self.high, self.low_open, self.high_open = kind, low, high, low_open, high_open
        whole = kind is int
        self.metavar = "N" if whole else "X"
        if whole and low is not None and high is not None:
            self.what_message = (N_("a whole number from {low:,} to {high:,}"), {"low": low, "high": high})
        elif low is not None and high is not None:
            interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            self.what_message = (N_("a number in {interval}"), {"interval": interval})
        elif low is not None:
            bound = f"{'>' if low_open else '>='} {low:g}"
            self.what_message = (N_("a whole number {bound}") if whole else N_("a number {bound}"), {"bound": bound})
        else:
            self.what_message = (N_("a whole number") if whole else N_("a number"), {})
        if whole:
            self.sweep_kinds = ("int", "choice")
        else:
            positive = low is not None and low >= 0
            self.sweep_kinds = (("loguniform",) if positive else ()) + ("uniform", "choice")

    def check(self, value, name: str):
        wrong_type = isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)
        if not wrong_type and self.kind is int and not isinstance(value, numbers.Integral):
            wrong_type = True
        if wrong_type or not math.isfinite(value) or not self.inside(value):
            raise self.refuse(value, name)
        return self.kind(value)

    def inside(self, value) -> bool:
        low_ok = self.low is None or (value > self.low if self.low_open else value >= self.low)
        high_ok = self.high is None or (value < self.high if self.high_open else value <= self.high)
        return low_ok and high_ok

    def parse(self, text: str):
        return number_or_text(text, self.kind)


class Options(Constraint):
    """One of a list of names (``options`` may be a function returning them, for registries).

    Examples
    --------
    >>> Options(("sgd", "adam")).check("adagrad", "optimizer")
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.InputError: unknown optimizer 'adagrad'; choose one of sgd, adam
    """

    def __init__(self, options, hint: str = ""):
        super().__init__(hint)
        self.source = options

    @property
    def options(self) -> tuple:
        return tuple(self.source() if callable(self.source) else self.source)

    @property
    def what_message(self) -> tuple:
        return N_("one of {options}"), {"options": ", ".join(self.options)}

    def check(self, value, name: str):
        if not isinstance(value, str) or value not in self.options:
            raise InputError(_(UNKNOWN, name=name, value=value, options=", ".join(self.options)) + self.hint_said())
        return value


class Sizes(Constraint):
    """Layer sizes: one or more whole numbers >= 1, as a tuple. On the command line ``100 50`` or ``100-50``.

    Examples
    --------
    >>> Sizes().check([512, 256], "hidden"), Sizes().parse("512-256")
    ((512, 256), (512, 256))
    """

    what_message = (N_("one or more whole numbers >= 1 (units per hidden layer), such as 100 or 512-256"), {})
    metavar = "N"

    def check(self, value, name: str):
        items = (value,) if isinstance(value, numbers.Integral) else value
        try:
            sizes = tuple(items)
        except TypeError:
            raise self.refuse(value, name) from None
        if not sizes or not all(
            isinstance(s, numbers.Integral) and not isinstance(s, (bool, np.bool_)) and s >= 1 for s in sizes
        ):
            raise self.refuse(value, name)
        return tuple(int(s) for s in sizes)

    def parse(self, text: str):
        parts = str(text).strip().split("-")
        return tuple(int(p) for p in parts) if all(p.isascii() and p.isdigit() for p in parts) else text


class Init(Constraint):
    """A weight initialisation: a standard deviation > 0, or one of :data:`INITS`.

    Examples
    --------
    >>> Init().check("relu", "init")
    'he'
    """

    what_message = (N_("a standard deviation > 0 (the book uses 0.01), or 'xavier' or 'he'"), {})
    metavar = "STD"

    def check(self, value, name: str):
        if isinstance(value, str):
            if value.lower() in INITS:
                return INITS[value.lower()]
        elif isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and 0 < value < math.inf:
            return float(value)
        raise self.refuse(value, name)

    def parse(self, text: str):
        return number_or_text(text, float)


class ShareOrCount(Constraint):
    """A share in (0, 1) (a float) or a count >= 1 (an int): how much of a data set is held back.

    Examples
    --------
    >>> c = ShareOrCount()
    >>> c.check(0.1, "validation"), c.check(10000, "validation"), c.parse("10000"), c.parse("0.1")
    (0.1, 10000, 10000, 0.1)
    """

    what_message = (
        N_("a share of the training samples in (0, 1), such as 0.1, or a whole number of samples, such as 10000"),
        {},
    )
    metavar = "SHARE"

    def check(self, value, name: str):
        if isinstance(value, (bool, np.bool_)):
            raise self.refuse(value, name)
        if isinstance(value, numbers.Integral) and value >= 1:
            return int(value)
        if isinstance(value, numbers.Real) and 0 < value < 1:
            return float(value)
        raise self.refuse(value, name)

    def parse(self, text: str):
        return number_or_text(text, int, float)


class Optional(Constraint):
    """``None`` (the setting's "not set", e.g. the optimizer's own default) or what ``inner`` allows."""

    def __init__(self, inner: Constraint):
        super().__init__(inner.hint)
        self.inner, self.metavar = inner, inner.metavar
        self.what_message = inner.what_message
        self.sweep_kinds = inner.sweep_kinds

    def check(self, value, name: str):
        return None if value is None else self.inner.check(value, name)

    def parse(self, text: str):
        return self.inner.parse(text)

    @property
    def options(self) -> tuple:
        return self.inner.options


class Flag(Constraint):
    """True or False (NumPy's bool too), not an array or a number.

    Examples
    --------
    >>> Flag().check(1, "return_path")
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.InputTypeError: return_path must be True or False, got 1
    """

    what_message = (N_("True or False"), {})
    error = InputTypeError

    def check(self, value, name: str):
        if not isinstance(value, (bool, np.bool_)):
            raise self.refuse(value, name)
        return bool(value)


class Seed(Constraint):
    """A seed for ``numpy.random.default_rng``: None (a fresh one), a whole number >= 0, or a Generator
    or SeedSequence (kept as it is)."""

    what_message = (N_("a whole number >= 0 (or None for a fresh one)"), {})

    def check(self, value, name: str):
        if value is None or isinstance(value, (np.random.Generator, np.random.SeedSequence)):
            return value
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 0:
            raise self.refuse(value, name)
        return int(value)


@dataclass(frozen=True)
class Declared:
    """The declaration of one field of a settings dataclass (:class:`~nnlearn.train.settings.TrainSettings`,
    :class:`~nnlearn.sweep.SweepSpec`): its check, flag, ``--help``, JSON and label all come from here.

    ``label``, ``unit``: the report's words for a training setting (marked ``N_``); ``tunable``: a sweep may
    search it; ``group``: ``"optimizer"`` for the optimizer's arguments; settings sharing an ``exclusive``
    name are alternatives on the command line; ``shown``: the default in words for ``--help``; ``searched``
    False: where the data is, not what is searched (``--resume`` may change it); ``own_flag`` False: the
    data options' flag; ``repeated``: the flag is given once per item (``--param A --param B``).
    """

    constraint: Constraint
    help: str
    label: str = ""
    unit: str = ""
    tunable: bool = True
    group: str | None = None
    metavar: str | None = None
    exclusive: str | None = None
    shown: str | None = None
    flag: str | None = None
    searched: bool = True
    own_flag: bool = True
    repeated: bool = False


def declared(default, constraint: Constraint, help: str, **declaration):
    """A dataclass field with its :class:`Declared` (keyword arguments: Declared's)."""
    return field(default=default, metadata={"declared": Declared(constraint, help, **declaration)})


def declarations(cls) -> dict:
    """``{name: Declared}`` of every field of the dataclass ``cls``, in declaration order."""
    return {f.name: f.metadata["declared"] for f in fields(cls)}


def check_declared(obj) -> None:
    """Check and normalise, in place, every declared field of the frozen dataclass ``obj``."""
    for name, declaration in declarations(type(obj)).items():
        object.__setattr__(obj, name, declaration.constraint.check(getattr(obj, name), name))


#: The most samples one batch may have: a million MNIST rows are 3 GB of float32 already.
MAX_BATCH = 10**6
#: The most weights and biases a network may have: 800 MB in float64, 80 times the largest network
#: the recipes and sweeps build (784-800-800-10, 1.3 million). More is refused before any allocation.
MAX_PARAMETERS = 10**8
#: Names of the weight initialisations, with the book's aliases (ch. 6: "sigmoid" means Xavier).
INITS = {"xavier": "xavier", "sigmoid": "xavier", "he": "he", "relu": "he"}

#: Rules without a name of their own (a count of samples, a step, a switch).
POSITIVE_WHOLE = Number(int, 1)
COUNT = Number(int, 0)
POSITIVE = Number(float, 0, low_open=True)
FLAG = Flag()
SEED = Seed()

#: The rule of each argument the book names, with the book's value: the training settings, the networks,
#: the optimizers and the chapter's functions all check ``lr``, ``momentum``, ... with these.
RULES = {
    "lr": Number(float, 0, None, low_open=True, hint=N_("the book uses 0.1 with SGD")),
    "momentum": Number(float, 0, 1, high_open=True, hint=N_("the book uses 0.9")),
    "beta1": Number(float, 0, 1, high_open=True, hint=N_("the book uses 0.9")),
    "beta2": Number(float, 0, 1, high_open=True, hint=N_("the book uses 0.999")),
    "eps": Number(float, 0, 1, low_open=True, hint=N_("the book uses 1e-7")),
    "h": Number(float, 0, None, low_open=True, hint=N_("the book uses h=1e-4")),
    "batch_size": Number(int, 1, MAX_BATCH, hint=N_("the book uses 100")),
    "hidden_size": Sizes(),
    "weight_init_std": Init(),
    "weight_decay_lambda": Number(float, 0, hint=N_("the book's lambda is 0.1 (ch. 6.4); 0 for none")),
    "dropout_ratio": Number(float, 0, 1, high_open=True, hint=N_("the book uses 0.2 (ch. 6.4); 0 for none")),
    "seed": SEED,
}


def check(name: str, value, label: str | None = None):
    """``value`` of the argument ``name`` checked (and normalised) by its rule in :data:`RULES`; ``label``
    names it in the message where the caller's name differs.

    Examples
    --------
    >>> check("dropout_ratio", 0.5), check("weight_init_std", "relu")
    (0.5, 'he')
    >>> check("lr", -1)
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.InputError: lr must be a number > 0, got -1; the book uses 0.1 with SGD
    """
    return RULES[name].check(value, label or name)


# -- the arrays a user passes to the chapter's functions and networks ----------------------------------------


def check_numeric(a, name: str) -> np.ndarray:
    """``a`` as an array of bool, int or float numbers, its values unconverted."""
    arr = np.asarray(a)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise InputError(_("{name} must be numeric, got an array of {dtype}", name=name, dtype=arr.dtype))
    return arr


def as_float_array(a, name: str) -> np.ndarray:
    """Return ``a`` as a floating-point array (float64 unless it already is a float type)."""
    arr = check_numeric(a, name)
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


def check_numbers(x, name: str = "x") -> np.ndarray:
    """``x`` as an array of numbers (bool, int, float or complex; NumPy subclasses kept), else InputTypeError.

    Examples
    --------
    >>> check_numbers(None)
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.InputTypeError: x must be a number or an array of numbers, got NoneType None
    """
    try:
        arr = np.asanyarray(x) if not isinstance(x, (str, bytes)) else np.asarray(x, dtype=object)
    except (ValueError, TypeError):  # a ragged list
        arr = np.asarray(None, dtype=object)
    if arr.dtype.kind not in "biufc":
        shown = repr(x) if len(repr(x)) <= 40 else repr(x)[:37] + "..."
        raise InputTypeError(
            _(
                "{name} must be a number or an array of numbers, got {type} {shown}",
                name=name,
                type=type(x).__name__,
                shown=shown,
            )
        )
    return arr


def check_real_numbers(x, name: str) -> np.ndarray:
    """``x`` as real numbers (NumPy subclasses kept): :func:`check_numbers` refusing complex ones too, for the
    function ``name`` of real numbers (sigmoid, relu, ...)."""
    arr = check_numbers(x)
    if arr.dtype.kind == "c":
        raise InputTypeError(
            _(
                "{name} takes real numbers, got {dtype} (x = {x}); pass the real part, np.real(x), if "
                "the imaginary parts are 0",
                name=name,
                dtype=arr.dtype,
                x=np.asarray(x).reshape(-1)[:3],
            )
        )
    return arr


def check_finite(arr: np.ndarray, name: str, fix: str | None = None) -> None:
    """Refuse NaN/inf in ``arr``; ``fix`` is the second half of the message (what to do about it; default:
    check the data), in the current language."""
    if not np.isfinite(arr).all():
        bad = "NaN" if np.isnan(arr).any() else "inf"
        raise InputError(
            _("{name} contains {bad}; {fix}", name=name, bad=bad, fix=_("check the data") if fix is None else fix)
        )


def check_nonempty(arr: np.ndarray, name: str) -> None:
    if arr.size == 0:
        raise InputError(_("{name} is empty; pass at least one sample", name=name))


def check_labels(t, n_classes: int, name: str = "t") -> np.ndarray:
    """Return integer class labels, refusing non-integers and values outside ``[0, n_classes)``."""
    arr = np.asarray(t)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or not np.array_equal(arr, np.round(arr)):
            raise InputError(
                _("{name} holds non-integer labels; labels are class indices 0..{last}", name=name, last=n_classes - 1)
            )
        arr = arr.astype(np.intp)
    elif arr.dtype.kind not in "iub":
        raise InputError(_("{name} must hold integer class labels, got {dtype}", name=name, dtype=arr.dtype))
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise InputError(
            _(
                "{name} has labels out of range [{low}, {high}]; with {n} outputs labels must lie in 0..{last}",
                name=name,
                low=arr.min(),
                high=arr.max(),
                n=n_classes,
                last=n_classes - 1,
            )
        )
    return arr.astype(np.intp, copy=False)


def is_one_hot(arr: np.ndarray) -> bool:
    """True when every row (last axis) holds exactly one 1 and zeros elsewhere."""
    return bool(arr.ndim >= 1 and arr.size > 0 and np.all((arr == 0) | (arr == 1)) and np.all(arr.sum(axis=-1) == 1))


def check_network_size(sizes, dtype=np.float64) -> int:
    """The number of weights and biases of a fully connected network with layer ``sizes`` (input and
    output included), refused when over :data:`MAX_PARAMETERS`.

    Examples
    --------
    >>> check_network_size([784, 50, 10])
    39760
    >>> check_network_size([784, 10**12, 10])
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.InputError: a 784-1000000000000-10 network has 7.95e+14 parameters (6.36e+06 GB of float64); nnlearn builds networks of at most 100,000,000 -- choose smaller layers
    """
    sizes = [POSITIVE_WHOLE.check(s, "a layer size") for s in sizes]
    count = sum(n_in * n_out + n_out for n_in, n_out in zip(sizes, sizes[1:]))
    if count > MAX_PARAMETERS:
        gigabytes = count * np.dtype(dtype).itemsize / 1e9
        raise InputError(
            _(
                "a {sizes} network has {count:.3g} parameters ({gigabytes:.3g} GB of {dtype}); nnlearn builds networks "
                "of at most {most:,} -- choose smaller layers",
                sizes="-".join(map(str, sizes)),
                count=count,
                gigabytes=gigabytes,
                dtype=np.dtype(dtype).name,
                most=MAX_PARAMETERS,
            )
        )
    return count


def check_no_bool_labels(t, name: str = "t") -> None:
    """Refuse True/False as targets: ``True`` would silently mean class 1."""
    if np.asarray(t).dtype == np.bool_:
        raise InputTypeError(
            _(
                "{name} holds booleans (True/False), which would be read as classes 1/0; pass "
                "integer class labels or a one-hot array of 0.0 and 1.0",
                name=name,
            )
        )


#: How far a row of probabilities may sum from 1: float32 and float16 softmax outputs, and
#: probabilities typed with two decimals, stay inside; sigmoid outputs or raw scores do not.
PROBABILITY_SUM_TOLERANCE = 1e-2


def check_probabilities(y: np.ndarray, name: str = "y", fix: str | None = None) -> None:
    """Every value in [0, 1] and every row (last axis) summing to 1 within :data:`PROBABILITY_SUM_TOLERANCE`;
    ``fix`` ends the message (default: apply softmax first)."""
    fix = _("apply softmax first") if fix is None else fix
    low, high = float(np.min(y)), float(np.max(y))
    if low < 0 or high > 1:
        bad = low if low < 0 else high
        raise InputError(
            _(
                "{name} holds {bad:g}, outside [0, 1]; {name} must be probabilities -- {fix}",
                name=name,
                bad=bad,
                fix=fix,
            )
        )
    sums = np.sum(y, axis=-1, dtype=np.float64)
    off = np.abs(sums - 1.0)
    # The slack keeps "within 0.01" inclusive despite rounding: 0.33 * 3 sums to 0.99000000000000010.
    if off.max() > PROBABILITY_SUM_TOLERANCE * (1 + 1e-9):
        row = int(np.argmax(off))
        where = _("row {row} of {name}", row=row, name=name) if y.ndim > 1 and y.shape[0] > 1 else name
        raise InputError(
            _(
                "{where} sums to {total:g}, not 1; {name} must be probabilities -- {fix}",
                where=where,
                total=sums.reshape(-1)[row],
                name=name,
                fix=fix,
            )
        )


def callable_name(f) -> str:
    """How to name ``f`` in a message: ``f (function_1)``, ``f (<lambda>)``."""
    return f"f ({getattr(f, '__name__', type(f).__name__)})"


def check_callable(f, what: str | None = None) -> None:
    """``f`` callable; ``what`` says what it must be (default: a function of one variable)."""
    if not callable(f):
        raise InputTypeError(
            _(
                "f must be {what}, got {type} {f!r}",
                what=_("a function of one variable") if what is None else what,
                type=type(f).__name__,
                f=f,
            )
        )


def check_real_point(x, name: str = "x") -> None:
    """A finite real number, or an array of them (not a string, bool or complex number)."""
    arr = np.asarray(x) if not isinstance(x, (str, bytes)) else np.asarray(x, dtype=object)
    if arr.dtype.kind not in "iuf":
        raise InputTypeError(
            _(
                "{name} must be a real number or an array of real numbers, got {type} {x!r}",
                name=name,
                type=type(x).__name__,
                x=x,
            )
        )
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise InputError(_("{name} must be finite, got {x!r}", name=name, x=x))


def check_real_result(value, f, x) -> None:
    """Refuse a value of ``f`` that is not real: None, a string, a complex number (f left its real domain)."""
    arr = np.asarray(value) if value is not None else np.asarray(None, dtype=object)
    if arr.dtype.kind in "biuf":
        return
    if arr.dtype.kind == "c":
        raise InputTypeError(
            _(
                "{f} returned the complex number {value!r} at x={x!r}; it must return a real number (a complex value "
                "means x is outside f's real domain, such as sqrt of a negative number)",
                f=callable_name(f),
                value=value,
                x=x,
            )
        )
    raise InputTypeError(
        _("{f} returned {value!r} at x={x!r}; it must return a real number", f=callable_name(f), value=value, x=x)
    )
