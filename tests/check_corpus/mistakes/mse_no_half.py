# The 0.5 is missing.
# expect: mean_squared_error missing-half
import numpy as np


def mean_squared_error(y, t):
    return np.sum((y - t) ** 2)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))
