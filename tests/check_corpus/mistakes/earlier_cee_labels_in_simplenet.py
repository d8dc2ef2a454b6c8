# 4.4.2 simpleNet —— 交叉熵用了 4.2.4 节"标签形式"的版本（只接受标签），
# simpleNet.loss 却把 one-hot 的 t 传给它。定义处是警告，被 simpleNet.loss 用错的地方是失败。
# expect: cross_entropy_error labels-vs-one-hot
# expect-uses: simpleNet.loss cross_entropy_error
# expect-warn: softmax softmax-single-sample
import numpy as np


def softmax(a):
    c = np.max(a)
    exp_a = np.exp(a - c)  # 溢出对策
    return exp_a / np.sum(exp_a)


def cross_entropy_error(y, t):
    # 监督数据是标签形式（不是 one-hot）
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
        loss = cross_entropy_error(y, t)
        return loss
