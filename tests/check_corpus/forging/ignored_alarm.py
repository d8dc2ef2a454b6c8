# attack: the child's alarm ignored, then a function that never returns.
# wrong: sigmoid
import signal

import numpy as np

signal.signal(signal.SIGALRM, signal.SIG_IGN)


def sigmoid(x):
    while True:
        pass
