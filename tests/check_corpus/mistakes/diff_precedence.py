# / 2*h divides by 2 and multiplies by h.
# expect: numerical_diff operator-precedence
def numerical_diff(f, x):
    h = 1e-4
    return (f(x + h) - f(x - h)) / 2*h
