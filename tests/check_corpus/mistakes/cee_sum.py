# The batch is summed, not averaged: the book's 4.2.2 version, a warning (nothing here uses it with a batch).
# expect: cross_entropy_error sum-not-mean
import numpy as np


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    return -np.sum(np.log(y[np.arange(y.shape[0]), t] + 1e-7))


def function_1(x):
    return 0.01 * x**2 + 0.1 * x
