# Everything in float32, for speed: correct, with the documented warning on the numerical gradient.
# expect-warn: TwoLayerNet.numerical_gradient float32-precision
import numpy as np


def sigmoid(x):
    return (1 / (1 + np.exp(-x))).astype(np.float32)


def softmax(x):
    x = (x - np.max(x, axis=-1, keepdims=True)).astype(np.float32)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return np.float32(-np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size)


def numerical_gradient(f, x):
    h = 1e-4
    if x.dtype.kind != 'f':
        raise TypeError("x must hold floats")
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


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        rng = np.random.default_rng()
        self.params = {
            'W1': (weight_init_std * rng.standard_normal((input_size, hidden_size))).astype(np.float32),
            'b1': np.zeros(hidden_size, dtype=np.float32),
            'W2': (weight_init_std * rng.standard_normal((hidden_size, output_size))).astype(np.float32),
            'b2': np.zeros(output_size, dtype=np.float32),
        }

    def predict(self, x):
        x = np.asarray(x, dtype=np.float32)
        z1 = sigmoid(x @ self.params['W1'] + self.params['b1'])
        return softmax(z1 @ self.params['W2'] + self.params['b2'])

    def loss(self, x, t):
        return cross_entropy_error(self.predict(x), t)

    def accuracy(self, x, t):
        return float(np.mean(self.predict(x).argmax(axis=1) == t.argmax(axis=1)))

    def numerical_gradient(self, x, t):
        loss_W = lambda W: self.loss(x, t)
        return {k: numerical_gradient(loss_W, v) for k, v in self.params.items()}

    def gradient(self, x, t):
        W1, b1, W2, b2 = (self.params[k] for k in ('W1', 'b1', 'W2', 'b2'))
        x = np.asarray(x, dtype=np.float32)
        a1 = x @ W1 + b1
        z1 = sigmoid(a1)
        y = softmax(z1 @ W2 + b2)
        dy = (y - t) / x.shape[0]
        dz1 = (dy @ W2.T) * (1 - z1) * z1
        return {'W2': z1.T @ dy, 'b2': dy.sum(axis=0), 'W1': x.T @ dz1, 'b1': dz1.sum(axis=0)}
