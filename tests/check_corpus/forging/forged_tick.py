# attack: the alarm ignored, "tick" messages (the old channel's "give me more time") written to every
# descriptor, then a function that never returns.
# wrong: sigmoid
import json
import os
import signal

import numpy as np


def sigmoid(x):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    tick = (json.dumps({"ev": "tick", "row": "sigmoid", "s": 1e9}) + "\n").encode()
    for fd in range(3, 64):
        try:
            os.write(fd, tick)
        except OSError:
            pass
    while True:
        pass
