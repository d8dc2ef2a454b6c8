"""4.5 Implementing the learning algorithm: TwoLayerNet learns MNIST by mini-batch gradient descent.

The book's train_neuralnet.py, with nnlearn's TwoLayerNet (gradients by backpropagation). The book's
plain numerical-gradient loop of 4.5.1 would take about 10 s per iteration, a day for these 10,000;
`network.numerical_gradient` gives its numbers in milliseconds (`nnlearn train --grad numerical`
trains that way in under a minute; `nnlearn demo numgrad` times both).
`nnlearn train` runs this same recipe with a progress bar, checkpoints and figures.

Needs the MNIST files: set NNLEARN_DATA (or pass data_dir=...), or let nnlearn download them.
"""

import numpy as np

from nnlearn import TwoLayerNet, load_mnist

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)

# float32, like the data: twice as fast as float64 and just as accurate here.
network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, seed=0, dtype=np.float32)

iters_num = 10000
train_size = x_train.shape[0]
batch_size = 100
learning_rate = 0.1
iter_per_epoch = max(train_size / batch_size, 1)

train_loss_list = []
train_acc_list = []
test_acc_list = []
rng = np.random.default_rng(0)  # the book's np.random.choice, seeded

for i in range(iters_num):
    batch_mask = rng.choice(train_size, batch_size)
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]

    grad = network.gradient(x_batch, t_batch)  # backpropagation
    for key in ("W1", "b1", "W2", "b2"):
        network.params[key] -= learning_rate * grad[key]

    train_loss_list.append(network.loss(x_batch, t_batch))

    if i % iter_per_epoch == 0:
        train_acc = network.accuracy(x_train, t_train)
        test_acc = network.accuracy(x_test, t_test)
        train_acc_list.append(train_acc)
        test_acc_list.append(test_acc)
        print(f"train acc, test acc | {train_acc:.4f}, {test_acc:.4f}")

print(f"final test accuracy {network.accuracy(x_test, t_test):.4f}")  # about 0.947, the book's result
print(f"loss: first {train_loss_list[0]:.3f}, last {train_loss_list[-1]:.3f}")
