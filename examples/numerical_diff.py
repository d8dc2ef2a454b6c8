"""4.3.1-4.3.2 Numerical differentiation, and why h=1e-50 fails."""

import numpy as np

from nnlearn import numerical_diff
from nnlearn.common.plots import plot_tangent, save_figure


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


print(numerical_diff(function_1, 5))   # 0.1999999999990898 (true 0.2)
print(numerical_diff(function_1, 10))  # 0.2999999999986347 (true 0.3)

# The "bad" forward difference: 5 + 1e-49 rounds to 5, so the difference is exactly 0.
print(numerical_diff(function_1, 5, h=10e-50, method="forward"))
print(np.float32(1e-50))  # 0.0: in float32 the step itself vanishes

save_figure(plot_tangent(function_1, 5), "tangent.png")
print("wrote tangent.png")
