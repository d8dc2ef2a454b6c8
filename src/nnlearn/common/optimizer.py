"""Optimizers (the book's ch. 6): ``update(params, grads)`` changes the arrays in ``params`` **in place**
-- the network's layers hold those very arrays -- and leaves ``grads`` untouched. ``state_dict()`` /
``load_state_dict()`` keep what an optimizer remembers between steps, so that a run resumed from a
checkpoint continues exactly as it would have.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from nnlearn.base.constraints import Options, check
from nnlearn.base.errors import InputError, InputTypeError
from nnlearn.base.i18n import _

#: Elements of each array an update works through at a time. A chain of a dozen operations on one
#: block stays in the cache instead of streaming every array through memory a dozen times: Adam's
#: update of the strong recipe's 535,000 weights takes 15 % less time, with the same numbers
#: (the same operations on every element, BENCHMARKS.md).
BLOCK = 1 << 15


def blocks(*arrays):
    """Pieces of at most :data:`BLOCK` elements of arrays of one shape, aligned; the arrays
    themselves when they are small or one of them is not contiguous.

    >>> [len(a) for a, b in blocks(np.zeros(70000), np.ones(70000))]
    [32768, 32768, 4464]
    """
    size = arrays[0].size
    if size <= BLOCK or not all(a.flags.c_contiguous and a.size == size for a in arrays):
        yield arrays
        return
    flat = [a.reshape(-1) for a in arrays]
    for start in range(0, size, BLOCK):
        yield tuple(f[start : start + BLOCK] for f in flat)


class Optimizer:
    """Base class: holds the hyperparameters and per-parameter state arrays."""

    #: Names of the per-parameter state arrays (e.g. ``("v",)``), for checkpoints.
    state_names: tuple = ()
    #: Numbers (not arrays) the next update depends on, for checkpoints: Adam's step count.
    scalar_names: tuple = ()

    def __init__(self, lr=0.01):
        self.lr = check("lr", lr)
        self.state = {name: {} for name in self.state_names}
        self._buf = {}

    def update(self, params: dict, grads: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def check_update(params, grads) -> None:
        """Refuse, in one line, ``params``/``grads`` that are not dicts of matching arrays (``net.params``,
        ``net.gradient(x, t)``): the book's ``update`` would fail deep inside, or update the wrong thing."""
        if not isinstance(params, dict) or not isinstance(grads, dict):
            raise InputTypeError(
                _(
                    "params and grads must be dicts of arrays, such as net.params and net.gradient(x, t); "
                    "got {params} and {grads}",
                    params=type(params).__name__,
                    grads=type(grads).__name__,
                )
            )
        for key, grad in grads.items():
            param = params.get(key)
            if not (isinstance(param, np.ndarray) and isinstance(grad, np.ndarray) and param.shape == grad.shape):
                raise InputError(
                    _(
                        "grads[{key!r}] must be an array shaped like params[{key!r}]; got {grad} for {param}",
                        key=key,
                        grad=type(grad).__name__,
                        param=type(param).__name__,
                    )
                )

    def state_dict(self) -> dict:
        """Everything the next update depends on: ``{"arrays": {...}, "scalars": {...}}``."""
        arrays = {f"{name}/{key}": arr for name, per_key in self.state.items() for key, arr in per_key.items()}
        return {"arrays": arrays, "scalars": {name: getattr(self, name) for name in self.scalar_names}}

    def load_state_dict(self, state: dict) -> None:
        self.state = {name: {} for name in self.state_names}
        for full, arr in state.get("arrays", {}).items():
            name, key = full.split("/", 1)
            if name not in self.state:
                raise InputError(
                    _("optimizer state {full!r} does not belong to {name}", full=full, name=type(self).__name__)
                )
            self.state[name][key] = np.array(arr)
        for name in self.scalar_names:
            setattr(self, name, int(state.get("scalars", {}).get(name, 0)))

    def _scratch(self, key, grad) -> np.ndarray:
        buf = self._buf.get(key)
        if buf is None or buf.shape != grad.shape or buf.dtype != grad.dtype:
            buf = self._buf[key] = np.empty_like(grad)
        return buf

    def _zeros(self, name: str, key, param) -> np.ndarray:
        per_key = self.state[name]
        arr = per_key.get(key)
        if arr is None:
            arr = per_key[key] = np.zeros_like(param)
        return arr

    def __repr__(self) -> str:
        names = inspect.signature(type(self)).parameters  # the hyperparameters, each kept as an attribute
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent: ``W <- W - lr * dW``.

    Examples
    --------
    >>> params = {"W": np.array([1.0, 2.0])}
    >>> SGD(lr=0.1).update(params, {"W": np.array([0.5, -1.0])})
    >>> params["W"]
    array([0.95, 2.1 ])
    """

    def update(self, params, grads):
        self.check_update(params, grads)
        for key, grad in grads.items():
            params[key] -= np.multiply(self.lr, grad, out=self._scratch(key, grad))


class Momentum(Optimizer):
    """SGD with momentum: ``v <- momentum * v - lr * dW``; ``W <- W + v``.

    Examples
    --------
    >>> params = {"W": np.array([1.0])}
    >>> opt = Momentum(lr=0.1, momentum=0.9)
    >>> opt.update(params, {"W": np.array([1.0])})
    >>> opt.update(params, {"W": np.array([1.0])})
    >>> params["W"]
    array([0.71])
    """

    state_names = ("v",)

    def __init__(self, lr=0.01, momentum=0.9):
        super().__init__(lr)
        self.momentum = check("momentum", momentum)

    def update(self, params, grads):
        self.check_update(params, grads)
        for key, grad in grads.items():
            for g, v, buf, p in blocks(grad, self._zeros("v", key, params[key]), self._scratch(key, grad), params[key]):
                v *= self.momentum
                v -= np.multiply(g, self.lr, out=buf)
                p += v


class AdaGrad(Optimizer):
    """AdaGrad: ``h <- h + dW**2``; ``W <- W - lr * dW / (sqrt(h) + eps)`` (the book's ``eps`` is 1e-7).

    Each weight's step shrinks as its gradients accumulate.

    Examples
    --------
    >>> params = {"W": np.array([1.0, 1.0])}
    >>> AdaGrad(lr=0.5).update(params, {"W": np.array([2.0, -0.5])})
    >>> params["W"]
    array([0.50000002, 1.4999999 ])
    """

    state_names = ("h",)

    def __init__(self, lr=0.01, eps=1e-7):
        super().__init__(lr)
        self.eps = check("eps", eps)

    def update(self, params, grads):
        self.check_update(params, grads)
        for key, grad in grads.items():
            for g, h, buf, p in blocks(grad, self._zeros("h", key, params[key]), self._scratch(key, grad), params[key]):
                np.multiply(g, g, out=buf)
                h += buf
                np.sqrt(h, out=buf)
                buf += self.eps
                np.divide(g, buf, out=buf)
                buf *= self.lr
                p -= buf


class Adam(Optimizer):
    """Adam, as the book writes it (ch. 6).

    With ``k`` the number of updates so far (this one included)::

        lr_k = lr * sqrt(1 - beta2**k) / (1 - beta1**k)
        m <- m + (1 - beta1) * (dW - m)
        v <- v + (1 - beta2) * (dW**2 - v)
        W <- W - lr_k * m / (sqrt(v) + eps)        (the book's eps: 1e-7)

    Examples
    --------
    The first step moves every weight by about ``lr`` against the sign of its gradient:

    >>> params = {"W": np.array([1.0, 1.0])}
    >>> Adam(lr=0.1).update(params, {"W": np.array([2.0, -0.5])})
    >>> params["W"]
    array([0.90000016, 1.09999937])
    """

    state_names = ("m", "v")
    scalar_names = ("iter",)

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-7):
        super().__init__(lr)
        self.beta1 = check("beta1", beta1)
        self.beta2 = check("beta2", beta2)
        self.eps = check("eps", eps)
        self.iter = 0

    def update(self, params, grads):
        self.check_update(params, grads)
        self.iter += 1
        lr_t = self.lr * math.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key, grad in grads.items():
            m, v = self._zeros("m", key, params[key]), self._zeros("v", key, params[key])
            for g, m, v, buf, p in blocks(grad, m, v, self._scratch(key, grad), params[key]):
                np.subtract(g, m, out=buf)
                buf *= 1.0 - self.beta1
                m += buf
                np.multiply(g, g, out=buf)
                buf -= v
                buf *= 1.0 - self.beta2
                v += buf
                np.sqrt(v, out=buf)
                buf += self.eps
                np.divide(m, buf, out=buf)
                buf *= lr_t
                p -= buf


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": AdaGrad, "adam": Adam}


def get_optimizer(name, **kwargs) -> Optimizer:
    """An optimizer by name (``"sgd"``, ``"momentum"``, ``"adagrad"``, ``"adam"``; any case).

    Examples
    --------
    >>> get_optimizer("Adam", lr=0.01)
    Adam(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-07)
    """
    return OPTIMIZERS[Options(tuple(OPTIMIZERS)).check(name.lower() if isinstance(name, str) else name, "optimizer")](
        **kwargs
    )
