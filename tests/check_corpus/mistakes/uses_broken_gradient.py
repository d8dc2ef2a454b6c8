# gradient_descent is right, but the numerical_gradient it calls divides by 2 and multiplies by h:
# the mistake is reported once, on numerical_gradient, and gradient_descent says it uses it.
# expect: numerical_gradient operator-precedence
# expect-uses: gradient_descent numerical_gradient
import numpy as np


def numerical_gradient(f, x):
    h = 1e-4
    if x.dtype.kind != 'f':
        raise TypeError("x must hold floats")
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        tmp_val = x[idx]
        x[idx] = tmp_val + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / 2*h
        x[idx] = tmp_val
    return grad


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x.copy()
    for _ in range(step_num):
        x -= lr * numerical_gradient(f, x)
    return x
