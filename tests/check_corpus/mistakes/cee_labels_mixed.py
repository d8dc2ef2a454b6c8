# Labels are turned into one-hot rows when t is 1-D -- but one sample's one-hot row is 1-D too.
# expect: cross_entropy_error labels-vs-one-hot
import numpy as np


def cross_entropy_error(y, t):
    if t.ndim <= 1:
        t = np.eye(y.shape[-1])[t]
    if y.ndim == 1:
        t = t.reshape(1, -1)
        y = y.reshape(1, -1)
    return -np.sum(t * np.log(y + 1e-7)) / y.shape[0]


def function_2(x):
    return np.sum(x**2)
