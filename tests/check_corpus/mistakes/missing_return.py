# softmax computes its result and forgets to return it.
# expect: softmax missing-return
import numpy as np


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    y = np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))
