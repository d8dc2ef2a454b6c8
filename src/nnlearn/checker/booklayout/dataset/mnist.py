"""Stand-in for the book's ``dataset/mnist.py``: ``load_mnist`` by nnlearn.

The files are found as ``nnlearn train`` finds them (``NNLEARN_DATA``, nnlearn's cache, or a
verified download), not in the book's ``dataset/`` folder.
"""

from nnlearn.datasets import load_mnist as _load

__all__ = ["load_mnist"]

img_size = 784


def load_mnist(normalize=True, flatten=True, one_hot_label=False):
    """``(x_train, t_train), (x_test, t_test)`` with the book's meaning of the three options."""
    return _load(normalize=normalize, flatten=flatten, one_hot_label=one_hot_label)
