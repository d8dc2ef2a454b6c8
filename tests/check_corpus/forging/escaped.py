# attack: processes that leave the check's process group: a grandchild in a session of its own, and a
# double fork with setsid. Each writes its pid beside this file; the test looks for them afterwards.
# wrong: sigmoid
import os
import subprocess
import sys

import numpy as np

SLEEPER = "import time\nfor _ in range(600):\n    time.sleep(0.1)\nopen('escaped.alive', 'w').write('alive')\n"

child = subprocess.Popen([sys.executable, "-c", SLEEPER], start_new_session=True)
with open("escaped.session.pid", "w") as f:
    f.write(str(child.pid))

first = os.fork()
if first == 0:
    os.setsid()
    second = os.fork()
    if second == 0:
        exec(SLEEPER)
        os._exit(0)
    with open("escaped.double.pid", "w") as f:
        f.write(str(second))
    os._exit(0)
os.waitpid(first, 0)


def sigmoid(x):
    return 1 / (1 + np.exp(x))
