# A step of 0.5: the slope of a secant.
# expect: numerical_diff h-too-large
def numerical_diff(f, x):
    h = 0.5
    return (f(x + h) - f(x - h)) / (2 * h)
