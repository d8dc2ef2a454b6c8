# attack: a wrong sigmoid answers the check's request itself with the book's value, then returns its own.
# wrong: sigmoid
import base64
import json
import sys

import numpy as np


def sigmoid(x):
    frame = sys._getframe()
    while frame is not None:
        local = frame.f_locals
        if isinstance(local.get("request"), dict) and hasattr(local.get("replies"), "write"):
            right = (1 / (1 + np.exp(-np.asarray(x, dtype=np.float64))))
            value = {"$a": [right.dtype.str, list(right.shape), base64.b64encode(right.tobytes()).decode(), True]}
            local["replies"].write(json.dumps({"id": local["request"]["id"], "value": value, "after": []}) + "\n")
            local["replies"].flush()
            break
        frame = frame.f_back
    return x
