# exp(x) where exp(-x) belongs.
# expect: sigmoid exp-sign
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(x))


def mean_squared_error(y, t):
    return 0.5 * np.sum((y - t) ** 2)
