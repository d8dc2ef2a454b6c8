# 第4章を自分の書き方で：camelCase、クラスの定数、@ 演算子、ベクトル化した勾配。
# Correct: no failure expected. Class-level constants (not the weights) are shared on purpose.
# expect-warn: numerical_gradient integer-input
import numpy as np


def Sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def softMax(a):
    shifted = a - a.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def crossEntropyError(y, t):
    y2 = np.atleast_2d(y)
    t2 = np.atleast_2d(t) if np.size(t) == np.size(y) else np.reshape(t, (-1,))
    labels = t2.argmax(axis=1) if np.ndim(t2) == 2 and t2.shape == y2.shape else t2
    return -np.mean(np.log(y2[np.arange(len(y2)), labels] + 1e-7))


def meanSquaredError(y, t):
    return 0.5 * np.sum((y - t) ** 2)


def numericalGradient(f, x):
    h = 1e-4
    grad = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        keep = x[idx]
        x[idx] = keep + h
        up = f(x)
        x[idx] = keep - h
        down = f(x)
        x[idx] = keep
        grad[idx] = (up - down) / (2 * h)
    return grad


def gradientDescent(f, initX, lr=0.01, stepNum=100):
    x = np.array(initX, dtype=float)
    for _ in range(stepNum):
        x = x - lr * numericalGradient(f, x)
    return x


class TwoLayerNet:
    KEYS = ("W1", "b1", "W2", "b2")  # 全インスタンス共通の定数（重みではない）

    def __init__(self, inputSize, hiddenSize, outputSize, weightInitStd=0.01):
        rng = np.random.default_rng()
        self.params = {
            "W1": weightInitStd * rng.standard_normal((inputSize, hiddenSize)),
            "b1": np.zeros(hiddenSize),
            "W2": weightInitStd * rng.standard_normal((hiddenSize, outputSize)),
            "b2": np.zeros(outputSize),
        }

    def predict(self, x):
        p = self.params
        hidden = Sigmoid(x @ p["W1"] + p["b1"])
        return softMax(hidden @ p["W2"] + p["b2"])

    def loss(self, x, t):
        return crossEntropyError(self.predict(x), t)

    def accuracy(self, x, t):
        return float(np.mean(self.predict(x).argmax(axis=1) == t.argmax(axis=1)))

    def numericalGradient(self, x, t):
        lossW = lambda _: self.loss(x, t)
        return {k: numericalGradient(lossW, self.params[k]) for k in self.KEYS}

    def gradient(self, x, t):
        p = self.params
        n = x.shape[0]
        a1 = x @ p["W1"] + p["b1"]
        z1 = Sigmoid(a1)
        dy = (softMax(z1 @ p["W2"] + p["b2"]) - t) / n
        dz1 = (dy @ p["W2"].T) * z1 * (1 - z1)
        return {"W2": z1.T @ dy, "b2": dy.sum(axis=0), "W1": x.T @ dz1, "b1": dz1.sum(axis=0)}
