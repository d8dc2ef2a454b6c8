# Another delta: right for ordinary outputs, 23.0 instead of 16.1 for a probability of 0 (a warning).
# expect: cross_entropy_error unusual-delta
import numpy as np


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-10)) / batch_size
