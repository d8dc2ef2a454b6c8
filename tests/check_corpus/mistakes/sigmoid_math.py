# math.exp takes one number.
# expect: sigmoid math-not-numpy
import math

import numpy as np


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
