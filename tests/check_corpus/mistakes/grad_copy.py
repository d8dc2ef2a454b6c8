# A copy is perturbed: f = lambda W: net.loss(x, t) never sees the change.
# expect: numerical_gradient copy-not-in-place
import numpy as np


def numerical_gradient(f, x):
    h = 1e-4
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        tmp_val = x[idx]
        x[idx] = tmp_val + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
    return grad
