"""The chapter's names, as a reader may spell them, and finding them among the names a file defined.

``cross_entropy_error``, ``crossEntropyError`` and ``CrossEntropyError`` are one name once case and
underscores are dropped (:func:`key`). A function name is only matched by a callable that is not a
class, a class name only by a class (a chapter-5 layer ``Softmax`` is not the function ``softmax``).
Used by both processes of a check; it imports nothing heavy.
"""

from __future__ import annotations

import inspect
import types
from dataclasses import dataclass

#: The functions of the chapter (and of chapter 3 that it uses), in the book's order, with the
#: other spellings of the book's own repository (``common/functions.py`` calls the mean squared
#: error ``sum_squared_error``; ``common/gradient.py`` calls the one-dimensional gradient
#: ``_numerical_gradient_1d``) and those learners give their second versions (``cross_entropy_error_2``
#: for the label version, ``numerical_gradient_2d``); the report says which chapter name each was taken for.
FUNCTIONS = {
    "sigmoid": (),
    "softmax": (),
    "mean_squared_error": ("sum_squared_error", "mean_square_error"),
    "cross_entropy_error": ("cross_entropy_error_2",),
    "numerical_diff": (),
    "function_1": (),
    "function_2": (),
    "_numerical_gradient_no_batch": ("_numerical_gradient_1d",),
    "numerical_gradient": ("numerical_gradient_2d", "numerical_grad"),
    "gradient_descent": (),
}

#: The classes and the methods the book gives them; the first method row is the constructor.
CLASSES = {
    "simpleNet": ("predict", "loss"),
    "TwoLayerNet": ("predict", "loss", "accuracy", "numerical_gradient", "gradient"),
}

#: Every row a report can hold, in order: functions, then each class and its methods.
ROWS = tuple(FUNCTIONS) + tuple(
    row for cls, methods in CLASSES.items() for row in (cls, *(f"{cls}.{m}" for m in methods))
)


def key(name: str) -> str:
    """The spelling-free form of a name: ``key("crossEntropyError") == key("cross_entropy_error")``.

    Examples
    --------
    >>> key("_numerical_gradient_no_batch"), key("NumericalGradientNoBatch")
    ('numericalgradientnobatch', 'numericalgradientnobatch')
    >>> key("simpleNet") == key("SimpleNet") == key("simple_net")
    True
    """
    return name.lstrip("_").replace("_", "").lower()


_FUNCTION_KEYS = {key(alias): name for name, aliases in FUNCTIONS.items() for alias in (name, *aliases)}
_CLASS_KEYS = {key(name): name for name in CLASSES}


def canonical_row(text: str) -> str | None:
    """The report row that ``--only TEXT`` means (``twolayernet.loss`` -> ``TwoLayerNet.loss``), or None.

    Examples
    --------
    >>> canonical_row("CrossEntropyError"), canonical_row("two_layer_net.gradient"), canonical_row("relu")
    ('cross_entropy_error', 'TwoLayerNet.gradient', None)
    """
    cls_text, _, method = text.partition(".")
    if method:
        cls = _CLASS_KEYS.get(key(cls_text))
        found = [m for m in CLASSES.get(cls, ()) if key(m) == key(method)]
        return f"{cls}.{found[0]}" if found else None
    return _FUNCTION_KEYS.get(key(text)) or _CLASS_KEYS.get(key(text))


def rows_of(selection) -> tuple[str, ...]:
    """The rows a selection of canonical names covers: a class covers its methods."""
    chosen = set(selection)
    return tuple(row for row in ROWS if row in chosen or row.partition(".")[0] in chosen)


def is_plain_callable(obj) -> bool:
    """A function, or an object with ``__call__`` (a class-based implementation), but not a class."""
    return callable(obj) and not inspect.isclass(obj)


@dataclass(frozen=True)
class Found:
    """A chapter name the reader's namespace holds: the book's ``name`` and the reader's ``spelling``."""

    name: str
    spelling: str
    obj: object


def find(namespace: dict) -> dict[str, Found]:
    """The chapter's functions and classes in ``namespace``, by canonical name.

    Where several spellings match one name, the book's own spelling wins, then the first defined.

    Examples
    --------
    >>> def Softmax(x): return x
    >>> class simple_net: pass
    >>> found = find({"Softmax": Softmax, "simple_net": simple_net, "relu": Softmax})
    >>> sorted((f.name, f.spelling) for f in found.values())
    [('simpleNet', 'simple_net'), ('softmax', 'Softmax')]
    """
    found: dict[str, Found] = {}
    for spelling, obj in namespace.items():
        if not isinstance(spelling, str):
            continue
        if inspect.isclass(obj):
            name = _CLASS_KEYS.get(key(spelling))
        elif is_plain_callable(obj) and not inspect.ismodule(obj):
            name = _FUNCTION_KEYS.get(key(spelling))
        else:
            name = None
        if name is None:
            continue
        if name not in found or (spelling == name and found[name].spelling != name):
            found[name] = Found(name, spelling, obj)
    return found


def find_method(cls, method: str):
    """The reader's spelling of ``method`` on ``cls`` (``numericalGradient`` for ``numerical_gradient``), or None."""
    names = [n for n in dir(cls) if not n.startswith("__") and key(n) == key(method)]
    if method in names:
        return method
    return names[0] if names else None


def code_owner(obj):
    """The plain function behind ``obj`` (a function, a method, a callable object), or None."""
    if isinstance(obj, types.MethodType):
        obj = obj.__func__
    if inspect.isfunction(obj):
        return obj
    call = getattr(type(obj), "__call__", None)
    return call if inspect.isfunction(call) else None


def referenced_names(fn) -> set:
    """The names a function's code (and the code nested in it) refers to, globals and attributes alike."""
    fn = code_owner(fn)
    if fn is None:
        return set()
    found, stack = set(), [fn.__code__]
    while stack:
        code = stack.pop()
        found.update(code.co_names)
        stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return found
