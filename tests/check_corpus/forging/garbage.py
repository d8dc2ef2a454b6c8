# attack: bytes that are not a message, and JSON that is not one of the check's, on every descriptor.
# wrong: sigmoid
import os

import numpy as np

for fd in range(3, 64):
    for line in (b"\xff\xfe not json\n", b"[1, 2, 3]\n", b'{"id": "1", "value": {"$a": "x"}}\n'):
        try:
            os.write(fd, line)
        except OSError:
            pass


def sigmoid(x):
    return 1 / (1 + np.exp(x))
