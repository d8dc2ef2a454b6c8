# The forward difference.
# expect: numerical_diff forward-difference
def numerical_diff(f, x):
    h = 1e-4
    return (f(x + h) - f(x)) / h


def function_1(x):
    return 0.01 * x**2 + 0.1 * x
