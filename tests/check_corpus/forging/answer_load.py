# attack: the file's top level finds the request the check is answering (a local of the child's main
# loop) and answers it first: a file that ran to its end and defines none of the chapter's names.
# wrong: sigmoid softmax mean_squared_error
import json
import os
import sys

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(x))


def softmax(x):
    return np.exp(x) / np.sum(np.exp(x))


def mean_squared_error(y, t):
    return np.sum((y - t) ** 2)


frame = sys._getframe()
while frame is not None:
    local = frame.f_locals
    if isinstance(local.get("request"), dict) and hasattr(local.get("replies"), "write"):
        answer = {"id": local["request"]["id"], "status": "ok", "notes": [], "found": {}}
        local["replies"].write(json.dumps(answer) + "\n")
        local["replies"].flush()
        os._exit(0)
    frame = frame.f_back
