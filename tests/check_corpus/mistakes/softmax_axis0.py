# A batch normalised along its columns.
# expect: softmax softmax-axis
import numpy as np


def softmax(x):
    if x.ndim == 2:
        x = x - np.max(x, axis=0, keepdims=True)
        return np.exp(x) / np.sum(np.exp(x), axis=0, keepdims=True)
    x = x - np.max(x)
    return np.exp(x) / np.sum(np.exp(x))
