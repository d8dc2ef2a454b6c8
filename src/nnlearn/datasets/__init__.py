"""MNIST that just works: ``load_mnist`` as in the book, verified downloads, fast cached loads, mini-batches.

>>> from nnlearn.datasets import load_mnist                          # doctest: +SKIP
>>> (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)  # doctest: +SKIP

Where the files come from, in order: ``data_dir`` / ``--data-dir``, ``NNLEARN_DATA``, the user
cache folder (platformdirs': ``~/.cache/nnlearn`` on Linux), a distribution's folder, else a
download over several mirrors (see :mod:`nnlearn.datasets.download`).
"""

from nnlearn.datasets.batches import (
    iterate_minibatches,
    sample_batch,
    sample_batch_indices,
    train_validation_split,
    validation_count,
)
from nnlearn.datasets.errors import DatasetError, DatasetWarning
from nnlearn.datasets.idx import read_idx, write_idx
from nnlearn.datasets.mnist import (
    DATASETS,
    FASHION_MNIST,
    FASHION_MNIST_CLASSES,
    MNIST,
    MNIST_CLASSES,
    class_names,
    data_folder,
    get_spec,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
)

__all__ = [
    "DATASETS",
    "DatasetError",
    "DatasetWarning",
    "FASHION_MNIST",
    "FASHION_MNIST_CLASSES",
    "MNIST",
    "MNIST_CLASSES",
    "class_names",
    "data_folder",
    "get_spec",
    "iterate_minibatches",
    "load_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "read_idx",
    "sample_batch",
    "sample_batch_indices",
    "train_validation_split",
    "validation_count",
    "write_idx",
]
