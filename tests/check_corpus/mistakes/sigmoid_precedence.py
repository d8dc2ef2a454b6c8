# 1 / 1 + exp(-x) is 1 + exp(-x).
# expect: sigmoid operator-precedence
import numpy as np


def sigmoid(x):
    return 1 / 1 + np.exp(-x)
