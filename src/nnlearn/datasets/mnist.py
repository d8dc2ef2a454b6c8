"""``load_mnist`` as in the book, and ``load_fashion_mnist`` with the same signature.

The files are found, downloaded and verified by :mod:`nnlearn.datasets.sources` and
:mod:`nnlearn.datasets.download`, parsed once into the cache of :mod:`nnlearn.datasets.cache`, and
returned in the book's layout.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from nnlearn.base.constraints import FLAG
from nnlearn.base.i18n import _
from nnlearn.datasets.cache import load_arrays
from nnlearn.datasets.download import ensure_files
from nnlearn.datasets.errors import DatasetError
from nnlearn.datasets.sources import DataFile, DatasetSpec, find_files

#: Class names, index = label.
MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def _files(train_n, test_n, digests):
    return (
        DataFile("train-images", "train-images-idx3-ubyte.gz", digests[0], (train_n, 28, 28)),
        DataFile("train-labels", "train-labels-idx1-ubyte.gz", digests[1], (train_n,)),
        DataFile("test-images", "t10k-images-idx3-ubyte.gz", digests[2], (test_n, 28, 28)),
        DataFile("test-labels", "t10k-labels-idx1-ubyte.gz", digests[3], (test_n,)),
    )


MNIST = DatasetSpec(
    name="mnist",
    title="MNIST",
    # SHA-256 of the decompressed files, as published with the original gzip files.
    files=_files(
        60000,
        10000,
        (
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
    ),
    classes=MNIST_CLASSES,
    # The original site (last) has answered HTTP 403 since 2024; the copies come first.
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    system_dirs=("/usr/share/datasets/mnist",),
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    # SHA-256 of the decompressed files. Computed from Debian's re-compressed copies
    # (package dataset-fashion-mnist) and equal to the digests others derived from the original
    # archives, whose published MD5s are 8d4fb7e6..., 25c81989..., bef4ecab..., bb300cfd....
    files=_files(
        60000,
        10000,
        (
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
    ),
    classes=FASHION_MNIST_CLASSES,
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    system_dirs=("/usr/share/datasets/fashion-mnist",),
)

SPECS = {s.name: s for s in (MNIST, FASHION_MNIST)}
#: The names accepted by ``load_dataset`` and ``--dataset``.
DATASETS = tuple(SPECS)


def get_spec(name: str | DatasetSpec) -> DatasetSpec:
    """The :class:`DatasetSpec` called ``name`` (a spec passes through)."""
    if isinstance(name, DatasetSpec):
        return name
    try:
        return SPECS[name]
    except (KeyError, TypeError):
        raise DatasetError(
            _("unknown dataset {name!r}; choose one of: {choices}", name=name, choices=", ".join(DATASETS))
        ) from None


def class_names(name: str | DatasetSpec = "mnist") -> tuple[str, ...]:
    """The class names of a data set, index = label.

    Examples
    --------
    >>> class_names("fashion-mnist")[9]
    'Ankle boot'
    """
    return get_spec(name).classes


def load_dataset(
    name: str | DatasetSpec,
    *,
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    data_dir: str | os.PathLike | None = None,
):
    """Load an MNIST-format data set by name (``"mnist"`` or ``"fashion-mnist"``).

    Same meaning and result as :func:`load_mnist`; see there.
    """
    spec = get_spec(name)
    for flag, value in (("normalize", normalize), ("flatten", flatten), ("one_hot_label", one_hot_label)):
        FLAG.check(value, flag)
    paths = ensure_files(spec, data_dir)
    arrays = load_arrays(spec, paths, normalize=bool(normalize))

    def images(x):
        return x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, *x.shape[1:])

    def labels(t):
        return np.eye(len(spec.classes), dtype=np.float32)[t] if one_hot_label else t

    return (
        (images(arrays["train-images"]), labels(arrays["train-labels"])),
        (images(arrays["test-images"]), labels(arrays["test-labels"])),
    )


def data_folder(name: str | DatasetSpec, data_dir: str | os.PathLike | None = None) -> Path | None:
    """The folder :func:`load_dataset` reads ``name``'s files from for ``data_dir`` (None: no folder holds
    them all). A run records this folder, not the one it was given: the two differ when ``data_dir``
    lacks a file and the search goes on (``NNLEARN_DATA``, the cache)."""
    paths = find_files(get_spec(name), data_dir)
    return None if paths is None else Path(paths["train-images"]).parent.resolve()


def load_mnist(normalize=True, flatten=True, one_hot_label=False, data_dir=None):
    """Load MNIST as in *Deep Learning from Scratch*: ``(x_train, t_train), (x_test, t_test)``.

    Parameters
    ----------
    normalize : bool
        True: pixels as float32 in [0, 1] (``x / 255``); False: the raw uint8 values 0..255.
    flatten : bool
        True: each image is a row of 784 values, ``(N, 784)``; False: ``(N, 1, 28, 28)``.
    one_hot_label : bool
        True: labels as ``(N, 10)`` float32 one-hot rows; False: ``(N,)`` uint8 class labels
        (the book's types; one-hot rows are float64 in the book, the same values).
    data_dir : path-like, optional
        A folder holding the four files (or a ``mnist/`` sub-folder). Otherwise ``NNLEARN_DATA``,
        the user cache folder, and the download mirrors are tried, in that order.

    Returns
    -------
    (x_train, t_train), (x_test, t_test)
        60000 training and 10000 test images, in arrays of your own (writable, in memory).

    Raises
    ------
    DatasetError
        When the files cannot be found or downloaded (one line saying how to provide them), or a
        file is corrupt or not MNIST.

    Examples
    --------
    >>> (x_train, t_train), (x_test, t_test) = load_mnist()  # doctest: +SKIP
    >>> x_train.shape, t_train.shape, x_train.dtype           # doctest: +SKIP
    ((60000, 784), (60000,), dtype('float32'))
    """
    return load_dataset(MNIST, normalize=normalize, flatten=flatten, one_hot_label=one_hot_label, data_dir=data_dir)


def load_fashion_mnist(normalize=True, flatten=True, one_hot_label=False, data_dir=None):
    """Load Fashion-MNIST (Zalando's clothing images, same format as MNIST); like :func:`load_mnist`.

    Class names, index = label, are :data:`FASHION_MNIST_CLASSES`. ``data_dir`` may hold the
    files or a ``fashion-mnist/`` sub-folder; Debian's ``dataset-fashion-mnist`` package is found
    without it.
    """
    return load_dataset(
        FASHION_MNIST, normalize=normalize, flatten=flatten, one_hot_label=one_hot_label, data_dir=data_dir
    )
