# 4.2-4.4 自己的笔记：交叉熵写了第二个版本（标签形式）叫 cross_entropy_error_2，
# 梯度叫 numerical_gradient_2d；softmax 从译本文件夹里的 functions.py 导入（这里没有这个文件）。
import numpy as np
from functions import softmax


def mean_square_error(y, t):
    return 0.5 * np.sum((y - t)**2)


def cross_entropy_error_2(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:  # one-hot 转成标签
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


def numerical_gradient_2d(f, x):
    h = 1e-4
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])
    while not it.finished:
        idx = it.multi_index
        tmp_val = x[idx]
        x[idx] = tmp_val + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2*h)
        x[idx] = tmp_val
        it.iternext()
    return grad


class simpleNet:
    def __init__(self):
        self.W = np.random.randn(2, 3)

    def predict(self, x):
        return np.dot(x, self.W)

    def loss(self, x, t):
        y = softmax(self.predict(x))
        return cross_entropy_error_2(y, t)
