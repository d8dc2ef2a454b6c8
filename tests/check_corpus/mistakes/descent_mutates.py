# The book's gradient_descent: x = init_x is no copy (a warning). It returns x and the path, as
# the book's gradient_method.py does.
# expect: gradient_descent init-x-mutated
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
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
    return grad


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x
    x_history = []
    for i in range(step_num):
        x_history.append(x.copy())
        grad = numerical_gradient(f, x)
        x -= lr * grad
    return x, np.array(x_history)
