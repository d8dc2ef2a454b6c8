# attack: the alarm ignored, then a reply that never ends: one byte at a time on every descriptor, no newline,
# so that a checker waiting for "the rest of the line" would wait forever.
# wrong: sigmoid
import os
import signal
import time

import numpy as np


def sigmoid(x):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True:
        for fd in range(3, 64):
            try:
                os.write(fd, b"{")
            except OSError:
                pass
        time.sleep(0.05)
