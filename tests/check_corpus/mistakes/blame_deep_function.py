# 4.4 勾配法 —— 我自己的实现。h 写成了 1e-50，错误只在 _numerical_gradient_no_batch 里；
# numerical_gradient 逐行调用它，gradient_descent 又调用 numerical_gradient：
# 两层之外的错误只在原处报告一次。
# expect: _numerical_gradient_no_batch h-too-small
# expect-uses: numerical_gradient _numerical_gradient_no_batch
# expect-uses: gradient_descent _numerical_gradient_no_batch
import numpy as np


def _numerical_gradient_no_batch(f, x):
    h = 1e-50  # 越小越精确？
    grad = np.zeros_like(x)

    for idx in range(x.size):
        tmp_val = x[idx]
        x[idx] = tmp_val + h
        fxh1 = f(x)  # f(x+h)

        x[idx] = tmp_val - h
        fxh2 = f(x)  # f(x-h)
        grad[idx] = (fxh1 - fxh2) / (2 * h)

        x[idx] = tmp_val  # 还原值

    return grad


def numerical_gradient(f, X):
    if X.ndim == 1:
        return _numerical_gradient_no_batch(f, X)
    else:
        grad = np.zeros_like(X)
        for idx, x in enumerate(X):
            grad[idx] = _numerical_gradient_no_batch(f, x)
        return grad


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x.copy()
    for i in range(step_num):
        grad = numerical_gradient(f, x)
        x -= lr * grad
    return x


def function_2(x):
    return x[0]**2 + x[1]**2
