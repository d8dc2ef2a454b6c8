"""Mini-batches: the book's random sampling, epochs, and a train/validation split.

The chapter draws each mini-batch *with replacement*: ``batch_mask = np.random.choice(train_size,
batch_size)``. :func:`sample_batch` does exactly that through a seeded
:class:`numpy.random.Generator`. :func:`iterate_minibatches` instead walks a shuffled epoch
*without* replacement, every sample once. :func:`train_validation_split` holds data back for
judging -- learning and judging must use different data -- and :func:`validation_count` is the one
rule, used everywhere in nnlearn, for how many samples a validation share or count holds back.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from nnlearn.base.constraints import POSITIVE_WHOLE, ShareOrCount, check
from nnlearn.base.errors import InputError
from nnlearn.base.i18n import _, ngettext

_SHARE_OR_COUNT = ShareOrCount()


def _rng(seed) -> np.random.Generator:
    """A Generator from a seed (int or None) or a Generator itself (used as is)."""
    return np.random.default_rng(check("seed", seed))


def _check_pair(x, t):
    x, t = np.asarray(x), np.asarray(t)
    if x.ndim == 0 or t.ndim == 0:
        raise InputError(_("x and t must be arrays with one row per sample, got a scalar"))
    if len(x) != len(t):
        raise InputError(_("x has {nx} samples but t has {nt}; they must pair up row by row", nx=len(x), nt=len(t)))
    return x, t


def sample_batch_indices(train_size: int, batch_size: int, seed=None) -> np.ndarray:
    """The book's ``batch_mask = np.random.choice(train_size, batch_size)``, through ``Generator.choice``.

    Examples
    --------
    >>> sample_batch_indices(60000, 10, seed=0)
    array([51037, 38217, 30668, 16187, 18469,  2458,  4514,   991, 10516,
           48796])
    """
    train_size = POSITIVE_WHOLE.check(train_size, "train_size")
    return _rng(seed).choice(train_size, check("batch_size", batch_size))


def sample_batch(x, t, batch_size: int, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """``(x[batch_mask], t[batch_mask])`` for a random ``batch_mask`` (with replacement), as in the book.

    Pass one Generator for a whole training run so that successive batches differ but the run
    is reproducible.

    Examples
    --------
    >>> x = np.arange(20).reshape(10, 2); t = np.arange(10)
    >>> rng = np.random.default_rng(1)
    >>> xb, tb = sample_batch(x, t, 3, seed=rng)
    >>> tb, xb[:, 0]
    (array([4, 5, 7]), array([ 8, 10, 14]))
    """
    x, t = _check_pair(x, t)
    mask = sample_batch_indices(len(x), batch_size, seed)
    return x[mask], t[mask]


def iterate_minibatches(
    x, t, batch_size: int, *, shuffle: bool = True, drop_last: bool = False, seed=None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of mini-batches without replacement: every sample exactly once.

    ``shuffle``: visit the samples in a random order (from ``seed``, an int or a Generator), else in
    order; ``drop_last``: drop the last batch when it is smaller than ``batch_size``.

    Examples
    --------
    >>> x = np.arange(7); t = x * 10
    >>> [tb.tolist() for _, tb in iterate_minibatches(x, t, 3, shuffle=False)]
    [[0, 10, 20], [30, 40, 50], [60]]
    >>> [len(xb) for xb, _ in iterate_minibatches(x, t, 3, drop_last=True, seed=0)]
    [3, 3]
    """
    x, t = _check_pair(x, t)
    batch_size = check("batch_size", batch_size)
    n = len(x)
    order = _rng(seed).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start : start + batch_size]
        yield x[idx], t[idx]


def validation_count(validation, n_samples: int) -> int:
    """How many of ``n_samples`` samples a validation share or count holds back: nnlearn's one rule.

    ``validation`` is what :class:`~nnlearn.base.constraints.ShareOrCount` allows: a share, a float in
    (0, 1), holds back ``round(validation * n_samples)`` samples (Python's ``round``); a count, a whole
    number, is taken as it is. Either way both parts must keep at least one sample, else
    :class:`InputError` says what to give instead.

    Examples
    --------
    >>> validation_count(0.1, 60000), validation_count(1 / 6, 60000), validation_count(10000, 60000)
    (6000, 10000, 10000)
    >>> validation_count(0.01, 20)
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.InputError: validation=0.01 holds back 0 of the 20 samples, leaving none for validation; give a share in (0, 1), such as 0.1, or a whole number of samples from 1 to 19
    """
    validation = _SHARE_OR_COUNT.check(validation, "validation")
    n = int(n_samples)
    count = validation if isinstance(validation, int) else int(round(validation * n))
    if 1 <= count < n:
        return count
    if count < 1:
        what = _(
            "validation={validation!r} holds back {count} of the {n} samples, leaving none for validation",
            validation=validation,
            count=count,
            n=n,
        )
    else:
        what = _(
            "validation={validation!r} holds back {count} of the {n} samples, leaving none for training",
            validation=validation,
            count=count,
            n=n,
        )
    fix = (
        _("give a share in (0, 1), such as 0.1, or a whole number of samples from 1 to {last}", last=n - 1)
        if n >= 2
        else ngettext(
            "{n} sample cannot be split; use more data or no validation part",
            "{n} samples cannot be split; use more data or no validation part",
            n,
        )
    )
    raise InputError(_("{what}; {fix}", what=what, fix=fix))


def train_validation_split(x, t, validation: float | int = 0.1, *, shuffle: bool = True, seed=None):
    """Split ``(x, t)`` into ``(x_train, t_train), (x_val, t_val)``: disjoint, every sample once.

    ``validation`` is the share held back, in (0, 1), or their number (:func:`validation_count`);
    ``shuffle`` picks them at random (from ``seed``), else takes the last ones.

    Examples
    --------
    >>> x = np.arange(10); t = x % 2
    >>> (xa, ta), (xv, tv) = train_validation_split(x, t, 0.2, shuffle=False)
    >>> xa.tolist(), xv.tolist()
    ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9])
    """
    x, t = _check_pair(x, t)
    n = len(x)
    n_val = validation_count(validation, n)
    order = _rng(seed).permutation(n) if shuffle else np.arange(n)
    train_idx, val_idx = np.sort(order[: n - n_val]), np.sort(order[n - n_val :])
    return (x[train_idx], t[train_idx]), (x[val_idx], t[val_idx])
