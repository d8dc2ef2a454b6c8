# The batch version without the reshape of a single sample: y.shape[0] is then the number of classes.
# expect: cross_entropy_error no-reshape
import numpy as np


def cross_entropy_error(y, t):
    batch_size = y.shape[0]
    return -np.sum(t * np.log(y + 1e-7)) / batch_size
