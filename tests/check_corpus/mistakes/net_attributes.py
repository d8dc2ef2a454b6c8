# The weights kept as attributes, not in the book's params dict.
# expect: TwoLayerNet book-interface
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.W1 = weight_init_std * np.random.randn(input_size, hidden_size)
        self.b1 = np.zeros(hidden_size)
        self.W2 = weight_init_std * np.random.randn(hidden_size, output_size)
        self.b2 = np.zeros(output_size)

    def predict(self, x):
        z1 = sigmoid(x @ self.W1 + self.b1)
        a2 = z1 @ self.W2 + self.b2
        e = np.exp(a2 - a2.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
