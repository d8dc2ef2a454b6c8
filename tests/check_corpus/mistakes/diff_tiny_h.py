# h = 1e-50: x + h == x.
# expect: numerical_diff h-too-small
def numerical_diff(f, x):
    h = 1e-50
    return (f(x + h) - f(x - h)) / (2 * h)


def function_1(x):
    return 0.01 * x**2 + 0.1 * x
