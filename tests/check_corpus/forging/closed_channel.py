# attack: the check's channel closed from inside (every descriptor above stderr), then a wrong result.
# wrong: sigmoid
import os

import numpy as np


def sigmoid(x):
    for fd in range(3, 64):
        try:
            os.close(fd)
        except OSError:
            pass
    return x
