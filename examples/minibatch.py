"""4.2.3 Mini-batch learning: load MNIST as the book does and draw a random batch of 10.

Needs the MNIST files: set NNLEARN_DATA (or pass data_dir=...), or let nnlearn download them.
"""

import numpy as np

from nnlearn import load_mnist

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)

print(x_train.shape)  # (60000, 784)
print(t_train.shape)  # (60000, 10)

# The book: batch_mask = np.random.choice(train_size, batch_size) -- with replacement.
# A seeded Generator makes the batch the same on every run.
rng = np.random.default_rng(0)
train_size = x_train.shape[0]
batch_size = 10
batch_mask = rng.choice(train_size, batch_size)
x_batch = x_train[batch_mask]
t_batch = t_train[batch_mask]

print(batch_mask)  # [51037 38217 30668 16187 18469  2458  4514   991 10516 48796]
print(x_batch.shape, t_batch.shape)  # (10, 784) (10, 10)
print(t_batch.argmax(axis=1))  # [2 5 0 6 7 4 2 4 9 8]
