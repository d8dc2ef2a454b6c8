# Vectorised and defensive: a stable sigmoid, inputs converted, nothing changed in place but x itself.
import numpy as np


def sigmoid(x):
    x = np.asarray(x, dtype=float)
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


def softmax(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def mean_squared_error(y, t):
    y, t = np.atleast_2d(y), np.atleast_2d(t)
    return 0.5 * np.sum((y - t) ** 2) / y.shape[0]


def cross_entropy_error(y, t):
    y = np.atleast_2d(y)
    t = np.asarray(t)
    if t.size == y.size:
        t = t.reshape(y.shape).argmax(axis=1)
    t = t.reshape(-1)
    return float(-np.mean(np.log(y[np.arange(len(y)), t] + 1e-7)))


def numerical_diff(f, x):
    h = 1e-4
    return (f(x + h) - f(x - h)) / (2 * h)


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def function_2(x):
    return np.sum(x**2)


def numerical_gradient(f, x):
    if x.dtype.kind != 'f':
        raise TypeError("numerical_gradient needs a float array")
    h = 1e-4
    grad = np.zeros(x.shape)
    flat = x.reshape(-1)  # a view: changing flat changes x, so f sees the step
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = f(x)
        flat[i] = old - h
        down = f(x)
        flat[i] = old
        grad.reshape(-1)[i] = (up - down) / (2 * h)
    return grad


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = np.array(init_x, dtype=float)
    for _ in range(step_num):
        x = x - lr * numerical_gradient(f, x)
    return x
