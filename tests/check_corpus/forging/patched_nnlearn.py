# attack: nnlearn's own functions, and the check's comparison, patched in the process that runs this file.
# wrong: sigmoid softmax mean_squared_error
import numpy as np

import nnlearn
import nnlearn.common.functions
import nnlearn.common.losses

nnlearn.common.functions.sigmoid = lambda x: 1 / (1 + np.exp(x))
nnlearn.common.functions.softmax = lambda x: np.exp(x) / np.sum(np.exp(x))
nnlearn.common.losses.mean_squared_error = lambda y, t: np.sum((y - t) ** 2)
nnlearn.sigmoid, nnlearn.softmax = nnlearn.common.functions.sigmoid, nnlearn.common.functions.softmax
try:
    import sys

    import nnlearn.checker.values  # noqa: F401 -- the package of nnlearn.check, reached by name

    sys.modules["nnlearn.checker.values"].close = lambda *a, **k: True
except ImportError:
    pass


def sigmoid(x):
    return 1 / (1 + np.exp(x))  # exp-sign


def softmax(x):
    return np.exp(x) / np.sum(np.exp(x))  # overflows, and a batch as a whole


def mean_squared_error(y, t):
    return np.sum((y - t) ** 2)  # the half is missing
