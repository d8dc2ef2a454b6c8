# range(x.size) and x[idx]: the book's 4.4 version, fine for a vector, whole rows for a matrix (a warning: nothing here passes it a matrix).
# expect: numerical_gradient one-dimensional-only
import numpy as np


def numerical_gradient(f, x):
    h = 1e-4
    x = x.astype(np.float64) if x.dtype.kind != 'f' else x
    grad = np.zeros_like(x)
    for idx in range(x.size):
        tmp_val = x[idx]
        x[idx] = float(tmp_val) + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
    return grad


def function_2(x):
    return x[0]**2 + x[1]**2
