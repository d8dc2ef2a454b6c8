# No maximum subtracted before exp.
# expect: softmax softmax-overflow
import numpy as np


def softmax(a):
    exp_a = np.exp(a)
    return exp_a / np.sum(exp_a, axis=-1, keepdims=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))
