# np.mean over the ten outputs.
# expect: mean_squared_error mean-of-squares
import numpy as np


def mean_squared_error(y, t):
    return np.mean((y - t) ** 2)
