"""The lesson of section 4.4.2 in the board: ``numerical_gradient`` on simpleNet, one element at a time.

The book's ``f = lambda W: net.loss(x, t)`` records the network's own weights at each call: one element
moved by +h, then by -h, then restored. That answers the book's repository issue #61 (why ``W`` is unused
in the lambda): ``numerical_gradient`` changes ``net.W`` in place, so ``net.loss`` sees each step.
"""

from __future__ import annotations

import numpy as np

from nnlearn.common.gradient import numerical_gradient
from nnlearn.common.simple_net import SimpleNet

#: The book's simpleNet weights (its random W, written out), input and label (section 4.4.1).
BOOK_W = ((0.47355232, 0.9977393, 0.84668094), (0.85557411, 0.03563661, 0.69422093))
BOOK_X = (0.6, 0.9)
BOOK_T = (0, 0, 1)
#: ``numerical_gradient``'s step.
H = 1e-4


def _reprs(a) -> list:
    return [[repr(float(v)) for v in row] for row in np.asarray(a)]


def numgrad_trace() -> dict:
    """Every call ``numerical_gradient(f, net.W)`` makes of ``f = lambda W: net.loss(x, t)``, in order.

    Returns the starting weights, one entry per element (its index, the weights and loss at +h and
    at -h, the partial derivative ``numerical_gradient`` wrote), the gradient it returned, and
    whether ``net.W`` ends bit for bit as it began; and the gradient when ``numerical_gradient`` is
    handed a copy of ``net.W`` instead (all zeros: the lambda never sees the moves).

    Examples
    --------
    >>> trace = numgrad_trace()
    >>> [step["index"] for step in trace["steps"]][:4]
    [[0, 0], [0, 1], [0, 2], [1, 0]]
    >>> trace["steps"][0]["plus"]["W"][0][0], trace["steps"][0]["minus"]["W"][0][0]
    ('0.47365232', '0.47345232000000004')
    >>> trace["gradient_repr"][0][0], trace["restored"], trace["calls"]
    ('0.2192475712392561', True, 12)
    >>> trace["gradient_of_a_copy"][0]
    ['0.0', '0.0', '0.0']
    """
    net = SimpleNet(W=BOOK_W)
    x, t = np.array(BOOK_X), np.array(BOOK_T)
    before = net.W.copy()
    calls = []

    def f(W):  # the book's lambda W: net.loss(x, t), recording what it sees
        loss = net.loss(x, t)
        calls.append({"W": _reprs(net.W), "loss": float(loss), "loss_repr": repr(float(loss))})
        return loss

    grad = numerical_gradient(f, net.W, h=H)
    moves = len(calls)
    on_a_copy = numerical_gradient(f, net.W.copy(), h=H)  # the moves never reach net.W: all 0
    steps = []
    for k, idx in enumerate(np.ndindex(before.shape)):
        steps.append(
            {
                "index": list(idx),
                "plus": calls[2 * k],
                "minus": calls[2 * k + 1],
                "partial": float(grad[idx]),
                "partial_repr": repr(float(grad[idx])),
            }
        )
    return {
        "W": _reprs(before),
        "x": list(BOOK_X),
        "t": list(BOOK_T),
        "h": H,
        "h_repr": repr(H),
        "loss": float(net.loss(x, t)),
        "loss_repr": repr(float(net.loss(x, t))),
        "steps": steps,
        "gradient": grad.tolist(),
        "gradient_repr": _reprs(grad),
        "restored": bool(np.array_equal(net.W, before)),
        "calls": moves,
        "gradient_of_a_copy": _reprs(on_a_copy),
    }
