# The softmax of section 3.5: one sample only (a warning).
# expect: softmax softmax-single-sample
import numpy as np


def softmax(a):
    c = np.max(a)
    exp_a = np.exp(a - c)
    sum_exp_a = np.sum(exp_a)
    y = exp_a / sum_exp_a
    return y
