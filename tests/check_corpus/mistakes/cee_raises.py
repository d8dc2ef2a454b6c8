# One sample's target is read as a batch: t.shape[1] does not exist for a 1-D target.
# expect: cross_entropy_error raised-exception
import numpy as np


def cross_entropy_error(y, t):
    classes = t.shape[1]
    y = y.reshape(-1, classes)
    return -np.sum(t * np.log(y + 1e-7)) / y.shape[0]
