# 4.4.2 simpleNet —— 交叉熵写了两个版本：cross_entropy_error（one-hot）和 cross_entropy_error_2（标签），
# simpleNet.loss 却调用了标签版本，并传入 one-hot 的 t（每个 0 和 1 都被当成了标签）。
# expect: simpleNet.loss labels-vs-one-hot
# expect-warn: softmax softmax-single-sample
# expect-warn: cross_entropy_error labels-vs-one-hot
import numpy as np


def softmax(a):
    c = np.max(a)
    exp_a = np.exp(a - c)  # 溢出对策
    return exp_a / np.sum(exp_a)


def cross_entropy_error(y, t):
    # 监督数据是 one-hot 表示
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    batch_size = y.shape[0]
    return -np.sum(t * np.log(y + 1e-7)) / batch_size


def cross_entropy_error_2(y, t):
    # 监督数据是标签形式
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


class simpleNet:
    def __init__(self):
        self.W = np.random.randn(2, 3)  # 用高斯分布进行初始化

    def predict(self, x):
        return np.dot(x, self.W)

    def loss(self, x, t):
        z = self.predict(x)
        y = softmax(z)
        loss = cross_entropy_error_2(y, t)
        return loss
