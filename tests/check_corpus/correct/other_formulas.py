# Correct, with formulas other than the book's: a complex-step derivative, a step of 1e-3, clipping
# instead of delta, a stable sigmoid from tanh, a gradient descent that keeps its path.
import numpy as np


def sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def softmax(a):
    a = np.asarray(a, dtype=float)
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    y = np.clip(np.atleast_2d(y), 1e-7, 1.0)
    t = np.asarray(t)
    labels = t.reshape(y.shape).argmax(axis=1) if t.size == y.size else t.reshape(-1)
    return -np.log(y[np.arange(len(y)), labels]).mean()


def numerical_diff(f, x):
    h = 1e-20  # the complex step: exact to rounding, no difference taken
    return np.imag(f(x + 1j * h)) / h


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def numerical_gradient(f, x):
    if x.dtype.kind != 'f':
        raise TypeError("numerical_gradient needs floats")
    h = 1e-3
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = f(x)
        x[idx] = old - h
        down = f(x)
        x[idx] = old
        grad[idx] = (up - down) / (2 * h)
    return grad


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    path = [np.array(init_x, dtype=float)]
    for _ in range(step_num):
        path.append(path[-1] - lr * numerical_gradient(f, path[-1].copy()))
    return path[-1], np.array(path)


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {'W1': weight_init_std * np.random.randn(input_size, hidden_size), 'b1': np.zeros(hidden_size),
                       'W2': weight_init_std * np.random.randn(hidden_size, output_size), 'b2': np.zeros(output_size)}

    def predict(self, x):
        return softmax(sigmoid(x @ self.params['W1'] + self.params['b1']) @ self.params['W2'] + self.params['b2'])

    def loss(self, x, t):
        return cross_entropy_error(self.predict(x), t)

    def numerical_gradient(self, x, t):
        return {k: numerical_gradient(lambda W: self.loss(x, t), v) for k, v in self.params.items()}
