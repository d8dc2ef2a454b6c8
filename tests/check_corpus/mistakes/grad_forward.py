# A forward difference in the gradient.
# expect: numerical_gradient forward-difference
import numpy as np


def numerical_gradient(f, x):
    h = 1e-4
    if x.dtype.kind != 'f':
        raise TypeError("x must hold floats")
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        tmp_val = x[idx]
        fx = f(x)
        x[idx] = tmp_val + h
        fxh = f(x)
        grad[idx] = (fxh - fx) / h
        x[idx] = tmp_val
    return grad
