# The row maxima without keepdims=True: subtracted along the wrong axis.
# expect: softmax softmax-axis
import numpy as np


def softmax(x):
    if x.ndim == 2:
        x = x - np.max(x, axis=1)
        return np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
    x = x - np.max(x)
    return np.exp(x) / np.sum(np.exp(x))


def function_1(x):
    return 0.01 * x**2 + 0.1 * x
