# attack: the memory and CPU limits raised back up (to the hard limit, and to unlimited), then a 3 GiB array.
# wrong: sigmoid softmax
import json
import resource

import numpy as np

for limit in (resource.RLIMIT_AS, resource.RLIMIT_CPU, resource.RLIMIT_NPROC, resource.RLIMIT_FSIZE):
    soft, hard = resource.getrlimit(limit)
    for wanted in ((hard, hard), (resource.RLIM_INFINITY, resource.RLIM_INFINITY)):
        try:
            resource.setrlimit(limit, wanted)
        except (ValueError, OSError):
            pass
with open("raised_limits.json", "w") as f:
    json.dump({name: resource.getrlimit(getattr(resource, name)) for name in ("RLIMIT_AS", "RLIMIT_CPU")}, f)


def sigmoid(x):
    return 1 / (1 + np.exp(x))


def softmax(x):
    big = np.ones(3 << 27)  # 3 GiB of float64
    return np.exp(x) / np.sum(np.exp(x)) + big[0] - 1
