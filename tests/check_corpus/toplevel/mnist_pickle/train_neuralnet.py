# 4.5.2 미니배치 학습 구현 — 데이터를 먼저 읽고, 함수는 그 아래에 정의했다.
# mnist.pkl 이 없어서 load_mnist 에서 멈춘다.
import numpy as np
from mnist import load_mnist

# 데이터 읽기
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
train_loss_list = []


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:  # 정답 레이블이 원-핫 인코딩이면 인덱스로 변환
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


iters_num = 10000  # 반복 횟수
for i in range(iters_num):
    batch_mask = np.random.choice(x_train.shape[0], 100)
