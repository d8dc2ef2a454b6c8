# 4.4 勾配：引数の名前を f から g に変えたが、本体ではまだ f を呼んでいる (NameError: f)。
# expect: numerical_gradient renamed-parameter
import numpy as np


def numerical_gradient(g, x):
    h = 1e-4  # 0.0001
    grad = np.zeros_like(x)  # x と同じ形状の配列を生成

    it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])
    while not it.finished:
        idx = it.multi_index
        tmp_val = x[idx]
        x[idx] = float(tmp_val) + h
        fxh1 = f(x)  # f(x+h)
        x[idx] = tmp_val - h
        fxh2 = f(x)  # f(x-h)
        grad[idx] = (fxh1 - fxh2) / (2*h)
        x[idx] = tmp_val  # 値を元に戻す
        it.iternext()
    return grad


def function_2(x):
    return x[0]**2 + x[1]**2
