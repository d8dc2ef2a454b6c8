# The gradient is kept in float32 (a warning: precision).
# expect: numerical_gradient float32-precision
import numpy as np


def numerical_gradient(f, x):
    h = 1e-4
    if x.dtype.kind != 'f':
        raise TypeError("x must hold floats")
    grad = np.zeros(x.shape, dtype=np.float32)
    for idx in np.ndindex(x.shape):
        tmp_val = x[idx]
        x[idx] = tmp_val + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
    return grad
