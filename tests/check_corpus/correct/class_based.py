# Class-based: functions as callable objects, and the network of chapter 5 built from layers.
from collections import OrderedDict

import numpy as np


class Sigmoid:
    def __call__(self, x):
        return 1 / (1 + np.exp(-x))


class Softmax:
    def __call__(self, x):
        x = x - x.max(axis=-1, keepdims=True)
        return np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)


class CrossEntropyError:
    def __call__(self, y, t):
        if y.ndim == 1:
            y, t = y.reshape(1, -1), t.reshape(1, -1)
        if t.size == y.size:
            t = t.argmax(axis=1)
        return -np.sum(np.log(y[np.arange(y.shape[0]), t] + 1e-7)) / y.shape[0]


sigmoid = Sigmoid()
softmax = Softmax()
crossEntropyError = CrossEntropyError()


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class SigmoidLayer:
    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        return crossEntropyError(self.y, t)

    def backward(self, dout=1):
        return (self.y - self.t) / self.t.shape[0]


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {
            'W1': weight_init_std * np.random.randn(input_size, hidden_size), 'b1': np.zeros(hidden_size),
            'W2': weight_init_std * np.random.randn(hidden_size, output_size), 'b2': np.zeros(output_size),
        }
        self.layers = OrderedDict()
        self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])
        self.layers['Sigmoid1'] = SigmoidLayer()
        self.layers['Affine2'] = Affine(self.params['W2'], self.params['b2'])
        self.lastLayer = SoftmaxWithLoss()

    def scores(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def predict(self, x):
        return softmax(self.scores(x))

    def loss(self, x, t):
        return self.lastLayer.forward(self.scores(x), t)

    def accuracy(self, x, t):
        return np.mean(self.predict(x).argmax(axis=1) == t.argmax(axis=1))

    def numericalGradient(self, x, t):
        grads = {}
        for key, value in self.params.items():
            grad = np.zeros_like(value)
            for idx in np.ndindex(value.shape):
                old = value[idx]
                value[idx] = old + 1e-4
                up = self.loss(x, t)
                value[idx] = old - 1e-4
                down = self.loss(x, t)
                value[idx] = old
                grad[idx] = (up - down) / 2e-4
            grads[key] = grad
        return grads

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        return {'W1': self.layers['Affine1'].dW, 'b1': self.layers['Affine1'].db,
                'W2': self.layers['Affine2'].dW, 'b2': self.layers['Affine2'].db}
