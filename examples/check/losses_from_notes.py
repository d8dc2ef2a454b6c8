"""The losses as typed from a set of notes -- with two classic slips.

Check it with:  nnlearn check examples/check/losses_from_notes.py --lang zh
"""
import numpy as np


def softmax(a):
    exp_a = np.exp(a)  # no maximum subtracted: np.exp(1010) overflows
    return exp_a / np.sum(exp_a, axis=-1, keepdims=True)


def mean_squared_error(y, t):
    return 0.5 * np.sum((y - t) ** 2)


def cross_entropy_error(t, y):  # the target first: the notes' slip
    delta = 1e-7
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    return -np.sum(t * np.log(y + delta)) / y.shape[0]
