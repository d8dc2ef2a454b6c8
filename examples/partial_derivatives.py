"""4.3.3 Partial derivatives of f(x0, x1) = x0**2 + x1**2 at (3, 4): hold one variable fixed."""

from nnlearn import numerical_diff


def function_tmp1(x0):
    return x0 * x0 + 4.0**2.0  # x1 = 4 held fixed


def function_tmp2(x1):
    return 3.0**2.0 + x1 * x1  # x0 = 3 held fixed


print(numerical_diff(function_tmp1, 3.0))  # 6.00000000000378
print(numerical_diff(function_tmp2, 4.0))  # 7.999999999999119
