"""The loss of a network at every point of a plane of weights ``w* + alpha d1 + beta d2``: the plain
definition (:func:`plane_losses_plain`) and the fast version :mod:`nnlearn.see.landscape` uses.

- the weights are linear in ``(1, alpha, beta)``, so the first layer's pre-activations of *every*
  point are ``(x W* + b*) + alpha (x D) + beta (x E)``: three products with the images, made once,
  then one ``(points x 3) @ (3 x samples*units)`` product per chunk of points;
- later layers run a chunk of points at once (a stacked ``matmul``); the output layer is kept
  transposed (units x samples), so softmax reduces over long contiguous rows;
- chunks of points and blocks of samples keep memory bounded whatever the grid;
- the weight decay term is a quadratic form in ``(1, alpha, beta)``, from a 3 x 3 Gram matrix.
"""

from __future__ import annotations

import numpy as np

from nnlearn.common.losses import CEE_DELTA
from nnlearn.common.networks import build_network

#: Memory for one chunk of grid points' activations; rows of samples are taken this many at a time.
CHUNK_BYTES = 64 * 2**20
SAMPLE_BLOCK = 10000


def plane_losses_plain(net, x, t, d1: dict, d2: dict, alphas, betas) -> np.ndarray:
    """``loss[i, j] = net.loss(x, t)`` with the weights ``w* + alphas[j] d1 + betas[i] d2``, one point at a time
    on a copy of ``net``: the definition :func:`plane_losses` is tested against."""
    probe = build_network(net.config(), seed=0)
    out = np.empty((len(betas), len(alphas)))
    for i, beta in enumerate(betas):
        for j, alpha in enumerate(alphas):
            probe.set_params({k: v + alpha * d1[k] + beta * d2[k] for k, v in net.params.items()})
            out[i, j] = probe.loss(x, t)
    return out


def plane_losses(
    net,
    x,
    t,
    d1: dict,
    d2: dict,
    alphas,
    betas,
    *,
    dtype=np.float32,
    chunk_bytes: int = CHUNK_BYTES,
    sample_block: int = SAMPLE_BLOCK,
) -> np.ndarray:
    """The numbers of :func:`plane_losses_plain`, many grid points per BLAS call; ``t`` holds labels.

    ``dtype`` is what the activations are computed in (float32: about twice as fast); each point's loss
    is summed in float64.
    """
    x = net.check_rows(x)
    labels = net.check_labels(t, x.shape[0])
    dtype = np.dtype(dtype)
    A, B = np.meshgrid(np.asarray(alphas, dtype=np.float64), np.asarray(betas, dtype=np.float64))
    coeffs = np.stack([np.ones(A.size), A.ravel(), B.ravel()], axis=1)
    # Each parameter with its two directions: stacks[k][0] + alpha stacks[k][1] + beta stacks[k][2].
    stacks = {k: np.stack([v, d1[k], d2[k]]).astype(dtype) for k, v in net.params.items()}
    total, points = np.zeros(len(coeffs)), coeffs.astype(dtype)
    n = x.shape[0]
    for start in range(0, n, sample_block):
        xb = np.ascontiguousarray(x[start : start + sample_block], dtype=dtype)
        total += _block_loss_sums(net, xb, labels[start : start + sample_block], points, stacks, chunk_bytes)
    total /= n
    total += _weight_decay(net, coeffs, stacks)
    return total.reshape(A.shape)


def _block_loss_sums(net, x, labels, coeffs, stacks, chunk_bytes: int) -> np.ndarray:
    """Sum over the rows of ``x`` of each grid point's per-sample loss."""
    n, L, sizes = x.shape[0], net.n_affine, net.sizes
    # The first layer's pre-activations of every point are a combination of these three (3, n, units).
    W1, b1 = stacks["W1"], stacks["b1"]
    first = np.stack([x @ W1[r] + b1[r] for r in range(3)]).reshape(3, -1)
    per_point = x.dtype.itemsize * (n * 2 * max(sizes[1:]) + max(s * r for s, r in zip(sizes, sizes[1:])))
    chunk = max(1, min(len(coeffs), chunk_bytes // per_point))
    sums = np.empty(len(coeffs))
    with np.errstate(over="ignore"):
        for start in range(0, len(coeffs), chunk):
            c = coeffs[start : start + chunk]
            g = len(c)
            h = (c @ first).reshape(g, n, sizes[1])
            for i in range(2, L + 1):
                _activate(net, h)
                W = (c @ stacks[f"W{i}"].reshape(3, -1)).reshape(g, sizes[i - 1], sizes[i])
                b = c @ stacks[f"b{i}"]
                if i < L:
                    h = np.matmul(h, W)
                    h += b[:, None, :]
                else:  # the output layer, transposed: (points, units, samples)
                    h = np.matmul(W.transpose(0, 2, 1), h.transpose(0, 2, 1))
                    h += b[:, :, None]
            if L == 1:
                h = np.ascontiguousarray(h.transpose(0, 2, 1))
            sums[start : start + g] = _output_loss_sums(net, h, labels)
    return sums


def _activate(net, h) -> None:
    """The hidden activation, in place; with dropout, test mode's scaling by ``1 - ratio``."""
    if net.activation == "sigmoid":
        np.negative(h, out=h)
        np.exp(h, out=h)
        h += 1
        np.reciprocal(h, out=h)
    else:
        np.maximum(h, 0, out=h)
    if net.dropout_ratio:
        h *= h.dtype.type(1.0 - net.dropout_ratio)


def _output_loss_sums(net, out_t, labels) -> np.ndarray:
    """Per point, the summed loss of the logits ``out_t`` (points, classes, samples), changed in place."""
    g, _, n = out_t.shape
    flat = labels * n + np.arange(n)  # each sample's label in a flattened (classes, samples) block
    if net.loss_type == "cross_entropy":
        out_t -= out_t.max(axis=1, keepdims=True)
        np.exp(out_t, out=out_t)
        y = out_t.reshape(g, -1)[:, flat] / out_t.sum(axis=1)
        return -np.log(y + y.dtype.type(CEE_DELTA)).sum(axis=1, dtype=np.float64)
    out_t.reshape(g, -1)[:, flat] -= 1  # y - t, t one-hot
    return 0.5 * np.square(out_t).sum(axis=(1, 2), dtype=np.float64)


def _weight_decay(net, coeffs, stacks) -> np.ndarray:
    """``lambda / 2 * sum ||W||**2`` at every point, from the Gram matrix of ``(W*, D, E)`` (float64)."""
    lam = net.weight_decay_lambda
    if not lam:
        return 0.0
    weights = [stacks[f"W{i}"].astype(np.float64) for i in range(1, net.n_affine + 1)]
    gram = sum(np.einsum("rij,sij->rs", s, s) for s in weights)
    return 0.5 * lam * np.einsum("pr,rs,ps->p", coeffs, gram, coeffs)
