"""4.2 Loss functions: mean squared error and cross-entropy, on the book's example."""

import numpy as np

from nnlearn import cross_entropy_error, mean_squared_error

t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])  # the correct class is 2

y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])  # most confident in 2
print("class 2:", mean_squared_error(y, t), cross_entropy_error(y, t))

y = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])  # most confident in 7
print("class 7:", mean_squared_error(y, t), cross_entropy_error(y, t))

# A batch: one row per sample, integer labels; the loss is the average over the batch.
batch = np.array([[0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0],
                  [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]])
print("batch of 2:", cross_entropy_error(batch, np.array([2, 2])))
