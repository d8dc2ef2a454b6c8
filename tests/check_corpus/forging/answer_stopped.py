# attack: as answer_load.py, but the forged answer says the top level was stopped by its time limit
# before the functions were defined (it answers at once, long before that limit).
# wrong: sigmoid softmax mean_squared_error
import json
import os
import sys

import numpy as np

frame = sys._getframe()
while frame is not None:
    local = frame.f_locals
    if isinstance(local.get("request"), dict) and hasattr(local.get("replies"), "write"):
        note = {"kind": "top-stopped", "seconds": "1", "where": []}
        answer = {"id": local["request"]["id"], "status": "stopped", "notes": [note], "found": {}}
        local["replies"].write(json.dumps(answer) + "\n")
        local["replies"].flush()
        os._exit(0)
    frame = frame.f_back


def sigmoid(x):
    return 1 / (1 + np.exp(x))


def softmax(x):
    return np.exp(x) / np.sum(np.exp(x))


def mean_squared_error(y, t):
    return np.sum((y - t) ** 2)
