# h = 1e-2 still works, less precisely (a warning).
# expect: numerical_diff unusual-h
def numerical_diff(f, x):
    h = 1e-2
    return (f(x + h) - f(x - h)) / (2 * h)


def function_1(x):
    return 0.01 * x**2 + 0.1 * x
