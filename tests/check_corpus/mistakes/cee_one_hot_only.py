# The book's first batch version: one-hot targets only (a warning: labels give a wrong number).
# expect: cross_entropy_error labels-vs-one-hot
import numpy as np


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    batch_size = y.shape[0]
    return -np.sum(t * np.log(y + 1e-7)) / batch_size


def sigmoid(x):
    return 1 / (1 + np.exp(-x))
