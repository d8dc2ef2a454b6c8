# The arguments in another order than the book's numerical_diff(f, x).
# expect: numerical_diff signature
def numerical_diff(x, f, h):
    return (f(x + h) - f(x - h)) / (2 * h)


def function_1(x):
    return 0.01 * x**2 + 0.1 * x
