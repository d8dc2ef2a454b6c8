"""Past the book's compromise: derivatives to machine precision, with an error estimate."""

import math

import numpy as np

from nnlearn import derivative, numerical_diff, numerical_gradient, relu
from nnlearn.common.plots import save_figure
from nnlearn.common.derivatives.rounding import plot_rounding_lesson, rounding_table


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


# The book's central difference, h = 1e-4, against the complex step (true slope 0.2).
print(numerical_diff(function_1, 5))  # 0.1999999999990898
print(derivative(function_1, 5))  # 0.2

# What auto did, how sure it is, and what it cost.
r = derivative(function_1, 5, full_output=True)
print(r.method, f"{r.error:.1e}", r.nfev)  # complex 3.1e-16 4

# math.log refuses complex numbers: auto extrapolates central differences instead (Richardson),
# with steps that stay above 0. The book's h = 1e-4 is 0.3% off at x = 1e-3 and, at x = 1e-5,
# steps to log(-9e-5): NaN.
r = derivative(math.log, 1e-3, full_output=True)
print(r.method, r.df, f"{r.error:.1e}")  # richardson 999.9999999999698 7.9e-10
print(numerical_diff(np.log, 1e-3))  # 1003.3534773107577
with np.errstate(invalid="ignore"):
    print(numerical_diff(np.log, 1e-5), derivative(math.log, 1e-5))  # nan 100000.0000000029

# abs is not analytic: a complex step through it would be wrong, so auto does not take one.
print(derivative(lambda x: x * np.abs(x), -2.0, full_output=True).method)  # richardson
# Nor is ReLU's np.maximum, even where a complex step through it happens to look right: auto
# watches what f does with x + ih and extrapolates instead.
r = derivative(relu, 2.0, full_output=True)
print(r.method, r.df)  # richardson 1.0

# Partial derivatives and gradients, to the last digit.
print(numerical_gradient(function_2, np.array([3.0, 4.0])).tolist())  # [6.00000000000378, 7.999999999999119]
print(numerical_gradient(function_2, np.array([3.0, 4.0]), method="auto").tolist())  # [6.0, 8.0]

# The lesson: truncation error against rounding error.
print(rounding_table())
save_figure(plot_rounding_lesson(), "rounding.png")
print("wrote rounding.png")
