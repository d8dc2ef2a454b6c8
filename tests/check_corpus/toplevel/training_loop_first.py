# 4.4.1 勾配降下法 —— 先に学習ループを回して、その後で関数を定義した（時間内に終わらない）。
import numpy as np


def function_2(x):
    return x[0]**2 + x[1]**2


x = np.array([-3.0, 4.0])
step = 0
while True:  # 収束するまで回す（つもり）
    step += 1
    x = x - 1e-12 * 2 * x


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x.copy()
    for i in range(step_num):
        grad = np.zeros_like(x)
        for idx in range(x.size):
            tmp_val = x[idx]
            x[idx] = tmp_val + 1e-4
            fxh1 = f(x)
            x[idx] = tmp_val - 1e-4
            fxh2 = f(x)
            grad[idx] = (fxh1 - fxh2) / (2 * 1e-4)
            x[idx] = tmp_val
        x -= lr * grad
    return x
