"""4.4.1 Gradient descent, and what the learning rate does."""

import numpy as np

from nnlearn import gradient_descent
from nnlearn.common.plots import plot_descent_path, save_figure


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


init_x = np.array([-3.0, 4.0])
print(gradient_descent(function_2, init_x, lr=0.1, step_num=100))    # about (0, 0)
print(gradient_descent(function_2, init_x, lr=10.0, step_num=100))   # too large: diverges
print(gradient_descent(function_2, init_x, lr=1e-10, step_num=100))  # too small: barely moves

save_figure(plot_descent_path(init_x), "descent_path.png")  # the three learning rates, 100 steps each
print("wrote descent_path.png")
