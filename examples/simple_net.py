"""4.4.2 The gradient of a neural network: the book's simpleNet, its loss and its gradient dL/dW."""

import numpy as np

from nnlearn import SimpleNet, numerical_gradient

# The book draws W at random; these are the values it prints.
net = SimpleNet(W=[[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]])
print(net.W)

x = np.array([0.6, 0.9])
p = net.predict(x)
print(p)  # [1.05414809 0.63071653 1.1328074 ]
print(np.argmax(p))  # 2

t = np.array([0, 0, 1])  # the correct label, one-hot
print(net.loss(x, t))  # 0.9280682857864075


# The book's idiom: a function of W that ignores its argument -- numerical_gradient perturbs
# net.W in place, so net.loss sees each perturbed weight.
def f(W):
    return net.loss(x, t)


dW = numerical_gradient(f, net.W)
print(dW)
# [[ 0.21924757  0.14356243 -0.36281   ]
#  [ 0.32887136  0.21534364 -0.544215  ]]

# Reading it: increasing W[1, 2] by h lowers the loss by about 0.544 h, so learning moves W[1, 2]
# up; increasing W[0, 0] raises the loss, so learning moves it down.
print(net.numerical_gradient(x, t)["W"].round(8).tolist() == dW.round(8).tolist())  # True
