"""4.4 The gradient: all partial derivatives at once, and the field of negative gradients."""

import numpy as np

from nnlearn import numerical_gradient
from nnlearn.common.plots import plot_gradient_field, save_figure


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


print(numerical_gradient(function_2, np.array([3.0, 4.0])))  # [6. 8.]
print(numerical_gradient(function_2, np.array([0.0, 2.0])))  # [0. 4.]
print(numerical_gradient(function_2, np.array([3.0, 0.0])))  # [6. 0.]

save_figure(plot_gradient_field(), "gradient_field.png")
print("wrote gradient_field.png")
