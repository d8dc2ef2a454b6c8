# exp(x) / (1 + exp(x)): inf / inf for a large x.
# expect: sigmoid sigmoid-overflow
import numpy as np


def sigmoid(x):
    e = np.exp(x)
    return e / (1 + e)
