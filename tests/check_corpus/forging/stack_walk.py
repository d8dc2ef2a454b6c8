# attack: each wrong function walks up the stack to every file object and descriptor it finds, writes
# "pass" verdicts (the old channel's and guessed answers of the new one), and ends the process at once.
# wrong: sigmoid softmax mean_squared_error
import json
import os
import sys

import numpy as np


def forge():
    lines = [json.dumps({"ev": "result", "row": row, "result": {"name": row, "spelling": row, "status": "pass",
                                                                 "findings": [], "note": None, "uses": []}})
             for row in ("sigmoid", "softmax", "mean_squared_error")]
    lines += [json.dumps({"ev": "end", "key": 0}), json.dumps({"ev": "bye"})]
    lines += [json.dumps({"id": i, "value": 0.5, "after": []}) for i in range(1, 40)]
    text = "\n".join(lines) + "\n"
    frame = sys._getframe()
    while frame is not None:
        for value in list(frame.f_locals.values()):
            for obj in (value, getattr(value, "out", None)):
                if hasattr(obj, "write") and hasattr(obj, "flush") and obj not in (sys.stdout, sys.stderr):
                    try:
                        obj.write(text)
                        obj.flush()
                    except Exception:
                        pass
        frame = frame.f_back
    for fd in range(3, 64):
        try:
            os.write(fd, text.encode())
        except OSError:
            pass
    os._exit(0)


def sigmoid(x):
    forge()
    return 1 / (1 + np.exp(x))  # exp-sign


def softmax(x):
    forge()
    return np.exp(x) / np.sum(np.exp(x))  # overflows, and a batch as a whole


def mean_squared_error(y, t):
    forge()
    return np.sum((y - t) ** 2)  # the half is missing
