# 4.4 梯度：照着一份 Python 2 的旧代码抄的，用了 xrange。
# expect: _numerical_gradient_no_batch python2-name
import numpy as np


def _numerical_gradient_no_batch(f, x):
    h = 1e-4  # 0.0001
    grad = np.zeros_like(x)  # 生成和 x 形状相同的数组

    for idx in xrange(x.size):
        tmp_val = x[idx]
        x[idx] = tmp_val + h
        fxh1 = f(x)  # f(x+h) 的计算

        x[idx] = tmp_val - h
        fxh2 = f(x)  # f(x-h) 的计算
        grad[idx] = (fxh1 - fxh2) / (2*h)

        x[idx] = tmp_val  # 还原值

    return grad


def function_2(x):
    return x[0]**2 + x[1]**2
