"""The book's numerical gradient of a multi-layer perceptron, every parameter at once.

:func:`nnlearn.common.gradient.numerical_gradient` perturbs one parameter ``w`` to ``w + h`` and ``w - h``, runs
the whole network twice and takes ``(L(w + h) - L(w - h)) / 2h``. For TwoLayerNet(784, 50, 10) that
is 79,520 forward passes per batch. This module computes the **same** central differences -- the
same ``h``, the same perturbed values ``fl(w + h)`` and ``fl(w - h)``, the same loss with its
``1e-7`` inside the log, one parameter at a time -- without running the network 79,520 times:

1. Perturbing ``W[i, j]`` of a layer by ``d`` moves one pre-activation, ``a[n, j]``, by
   ``eps = d * h_in[n, i]`` and leaves everything before it untouched. So the loss of sample ``n`` is
   a function ``g_nj(eps)`` of one variable, the same for every ``i``. (A zero input makes ``eps``
   zero: the perturbation is a no-op for that sample.)
2. ``g_nj`` is smooth near 0 (sigmoid, softmax and log are analytic; a ReLU is linear on either side
   of its kink). Its Taylor coefficients ``c_p`` to order :data:`ORDER` come from one pass of
   truncated power-series arithmetic through the layers after the perturbed one, for all ``(n, j)``
   together. Since ``|eps| <= 1e-4`` or so, the neglected terms are below 1e-20.
3. Then ``g(eps+) - g(eps-) = sum_p c_p (eps+**p - eps-**p)``, and summed over the samples this is a
   few matrix products: ``sum_p (d+**p - d-**p) * (h_in**p).T @ c_p``. Odd orders give the gradient
   plus the central difference's own truncation error (``h**2 / 6 * g'''``), exactly as the loop has it.
4. Where that argument does not hold -- a ReLU whose input could cross zero within the step, or a
   step so large that the series' tail is not negligible -- the affected ``(n, j)`` pairs are
   evaluated directly: the network after the perturbed layer is run on ``w + h`` and ``w - h``
   ("exact rows"). The ``rows`` engine evaluates *every* pair that way; it is slower, uses no
   series at all, and is the check that the series path is right.

Everything here is float64, whatever the parameters' dtype (their perturbed values are rounded in
their own dtype, as in the loop). Dropout with fixed masks makes each hidden output ``act(a) * m``
with ``m`` a constant per sample and unit, carried along every step. Weight decay's central
difference over the applied steps ``d+ = fl(w + h) - w`` and ``d- = fl(w - h) - w`` is
``lambda / 2 * (2 w (d+ - d-) + d+**2 - d-**2) / 2h``, added in that form.
"""

from __future__ import annotations

import numpy as np

from nnlearn.common.functions import relu, sigmoid, softmax
from nnlearn.common.losses import CEE_DELTA

#: Highest power of the perturbation kept in the Taylor expansion of the loss.
ORDER = 5
_MAX_CHUNK_BYTES = 64 * 2**20


# --- truncated power series in eps; axis 0 holds the coefficients of eps**0 ... eps**ORDER ---


def _mul(a, b):
    out = np.zeros(np.broadcast_shapes(a.shape, b.shape))
    for k in range(ORDER + 1):
        for i in range(k + 1):
            out[k] += a[i] * b[k - i]
    return out


def _exp(s):
    y = np.zeros(s.shape)
    y[0] = np.exp(s[0])
    for k in range(1, ORDER + 1):
        y[k] = sum(j * s[j] * y[k - j] for j in range(1, k + 1)) / k
    return y


def _log(u):
    y = np.zeros(u.shape)
    y[0] = np.log(u[0])
    for k in range(1, ORDER + 1):
        y[k] = (u[k] - sum(j * y[j] * u[k - j] for j in range(1, k)) / k) / u[0]
    return y


def _reciprocal(u):
    y = np.zeros(u.shape)
    y[0] = 1.0 / u[0]
    for k in range(1, ORDER + 1):
        y[k] = -y[0] * sum(u[j] * y[k - j] for j in range(1, k + 1))
    return y


def _sigmoid(s):
    # sigma' = sigma (1 - sigma) s', solved order by order.
    y = np.zeros(s.shape)
    q = np.zeros(s.shape)  # sigma (1 - sigma)
    y[0] = sigmoid(s[0])
    q[0] = y[0] * (1.0 - y[0])
    for k in range(1, ORDER + 1):
        y[k] = sum(j * s[j] * q[k - j] for j in range(1, k + 1)) / k
        q[k] = y[k] - sum(y[i] * y[k - i] for i in range(k + 1))
    return y


def _relu(s):
    # Valid only away from the kink; callers flag the pairs whose input may cross zero.
    return s * (s[0] > 0)


_SERIES_ACTIVATION = {"sigmoid": _sigmoid, "relu": _relu}
_ACTIVATION = {"sigmoid": sigmoid, "relu": relu}


def _variation_bound(s, eps_max):
    """An upper bound of |s(eps) - s(0)| for |eps| <= eps_max (eps_max broadcasts like s[0])."""
    return sum(np.abs(s[p]) * eps_max**p for p in range(1, ORDER + 1))


class Unsupported(Exception):
    """The series cannot compute for this network or batch; the message says why (the loop can)."""


class _Engine:
    """The central differences of one batch ``x, t`` (checked by the network) with dropout ``masks``."""

    def __init__(self, net, x, t, masks, h=1e-4):
        self.net, self.h = net, h
        self.weights = [net.params[f"W{i}"] for i in range(1, net.n_affine + 1)]
        self.biases = [net.params[f"b{i}"] for i in range(1, net.n_affine + 1)]
        self.ws = [np.asarray(w, dtype=np.float64) for w in self.weights]
        self.bs = [np.asarray(b, dtype=np.float64) for b in self.biases]
        x = np.asarray(x, dtype=np.float64)
        self.n = x.shape[0]
        k = self.ws[-1].shape[1]
        t = np.asarray(t)
        if t.shape == (self.n, k) and np.all((t == 0) | (t == 1)) and np.all(t.sum(axis=1) == 1):
            t = t.argmax(axis=1)  # one-hot: the loss reads one probability, as with labels
        if t.ndim == 1:
            self.labels, self.target = t.astype(np.intp), np.eye(k)[t.astype(np.intp)]
        else:
            self.labels, self.target = None, t.astype(np.float64)
        # Fixed factors of the hidden outputs: the dropout of the pass being differenced, held fixed
        # (the masks, or 1 - ratio at test time), one (N, units) array per hidden layer.
        self.mult = [None] * (len(self.ws) - 1)
        if net.dropout_ratio:
            self.mult = [
                np.full((self.n, size), 1.0 - net.dropout_ratio) if masks is None else masks[i] * 1.0
                for i, size in enumerate(net.sizes[1:-1])
            ]
        # The cached, unperturbed forward pass.
        self.hs, self.pre = [x], []
        with np.errstate(over="ignore", invalid="ignore"):  # a pass that overflows is refused below, in words
            for i, (w, b) in enumerate(zip(self.ws, self.bs)):
                a = self.hs[-1] @ w + b
                self.pre.append(a)
                if i < len(self.ws) - 1:
                    self.hs.append(self._act(i, a, slice(None)))
        if not all(np.isfinite(a).all() for a in self.pre):
            raise Unsupported("the forward pass is not finite")

    def _act(self, layer, a, rows, units=slice(None)):
        """Hidden layer ``layer``'s output for pre-activations ``a`` of sample ``rows`` (and ``units``)."""
        h = _ACTIVATION[self.net.activation](a)
        m = self.mult[layer]
        return h if m is None else h * m[rows, units]

    # --- the loss of many rows, exactly as the network computes it ---

    def _row_loss(self, a_out, rows):
        if self.net.loss_type == "mse":
            return 0.5 * np.sum((a_out - self.target[rows]) ** 2, axis=1)
        y = softmax(a_out)
        if self.labels is not None:
            return -np.log(np.take_along_axis(y, self.labels[rows][:, None], axis=1)[:, 0] + CEE_DELTA)
        return -np.sum(self.target[rows] * np.log(y + CEE_DELTA), axis=1)

    def _rows_from(self, layer, a, rows):
        """Loss of each row whose pre-activation at ``layer`` is ``a``."""
        for i in range(layer, len(self.ws) - 1):
            a = self._act(i, a, rows) @ self.ws[i + 1] + self.bs[i + 1]
        return self._row_loss(a, rows)

    def _exact(self, layer, rows, units, eps):
        """g(eps) for each row: sample ``rows``, unit ``units`` of ``layer`` moved by ``eps``."""
        if layer == len(self.ws) - 1:
            a = self.pre[layer][rows].copy()
            a[np.arange(len(rows)), units] += eps
            return self._row_loss(a, rows)
        delta = self._act(layer, self.pre[layer][rows, units] + eps, rows, units) - self.hs[layer + 1][rows, units]
        a_next = self.pre[layer + 1][rows] + delta[:, None] * self.ws[layer + 1][units]
        return self._rows_from(layer + 1, a_next, rows)

    # --- Taylor coefficients of g_nj for one layer, and the pairs where they cannot be trusted ---

    def _loss_series(self, s_out, rows):
        """Series of the per-sample loss, from the series ``s_out`` (ORDER+1, n, J, K) of the output."""
        if self.net.loss_type == "mse":
            diff = s_out.copy()
            diff[0] -= self.target[rows][:, None, :]
            return 0.5 * np.sum(_mul(diff, diff), axis=-1)
        shifted = s_out.copy()
        shifted[0] -= s_out[0].max(axis=-1, keepdims=True)
        e = _exp(shifted)
        if self.labels is not None:
            # -log(y_t + 1e-7) with y_t = e_t / sum_k e_k: only the label's column is multiplied out.
            idx = np.broadcast_to(self.labels[rows][None, :, None, None], e.shape[:-1] + (1,))
            p = _mul(np.take_along_axis(e, idx, axis=-1)[..., 0], _reciprocal(e.sum(axis=-1)))
            p[0] += CEE_DELTA
            return -_log(p)
        y = _mul(e, _reciprocal(e.sum(axis=-1))[..., None])
        logs = _log(y + np.where(np.arange(ORDER + 1) == 0, CEE_DELTA, 0.0)[:, None, None, None])
        return -np.sum(self.target[rows][None, :, None, :] * logs, axis=-1)

    def _series(self, layer, rows, eps_max):
        """Coefficients (ORDER+1, n, J) of g_nj for the samples ``rows``, and the pairs to evaluate exactly."""
        last = len(self.ws) - 1
        a = self.pre[layer][rows]
        n, units = a.shape
        flags = np.zeros((n, units), dtype=bool)
        if layer == last:
            s = np.zeros((ORDER + 1, n, units, units))
            s[0] = a[:, None, :]
            s[1] = np.eye(units)
        else:
            unit = np.zeros((ORDER + 1, n, units))
            unit[0], unit[1] = a, 1.0
            if self.net.activation == "relu":
                flags |= np.abs(a) <= 2 * eps_max
            delta = _SERIES_ACTIVATION[self.net.activation](unit)
            delta[0] = 0.0
            if self.mult[layer] is not None:
                delta *= self.mult[layer][rows][None]
            s = delta[..., None] * self.ws[layer + 1][None, None, :, :]
            s[0] = self.pre[layer + 1][rows][:, None, :]
            for i in range(layer + 1, last):
                if self.net.activation == "relu":
                    bound = _variation_bound(s, eps_max[..., None])
                    flags |= np.any((np.abs(s[0]) <= 2 * bound) & (bound > 0), axis=-1)
                h_series = _SERIES_ACTIVATION[self.net.activation](s)
                if self.mult[i] is not None:
                    h_series *= self.mult[i][rows][None, :, None, :]
                s_next = np.empty(s.shape[:-1] + (self.ws[i + 1].shape[1],))
                s_next[0] = self.pre[i + 1][rows][:, None, :]
                s_next[1:] = h_series[1:] @ self.ws[i + 1]
                s = s_next
        g = self._loss_series(s, rows)
        # The first neglected term is about eps_max times the last kept one: keep that below 1e-16 h.
        tail = np.abs(g[ORDER]) * eps_max**ORDER
        flags |= ~(tail <= 1e-16 * self.h) | ~np.all(np.isfinite(g), axis=0)
        g[1:, flags] = 0.0
        return g, flags

    def _chunks(self, layer):
        last = len(self.ws) - 1
        units = self.pre[layer].shape[1]
        width = max(w.shape[1] for w in self.ws[layer:]) if layer < last else units
        per_sample = 8 * (ORDER + 1) * units * width * 4
        step = max(1, _MAX_CHUNK_BYTES // per_sample)
        for start in range(0, self.n, step):
            yield np.arange(start, min(start + step, self.n))

    # --- the gradient ---

    def _steps(self, p):
        """The perturbations actually applied to ``p``: fl(p + h) - p and fl(p - h) - p, in p's dtype."""
        plus = (p + np.asarray(self.h, dtype=p.dtype)).astype(np.float64) - p.astype(np.float64)
        minus = (p - np.asarray(self.h, dtype=p.dtype)).astype(np.float64) - p.astype(np.float64)
        return plus, minus

    def gradient(self, method="series"):
        return [self._layer_gradient(i, w, b, method) for i, (w, b) in enumerate(zip(self.weights, self.biases))]

    def _layer_gradient(self, layer, w, b, method):
        h_in = self.hs[layer]
        dw_plus, dw_minus = self._steps(w)
        db_plus, db_minus = self._steps(b)
        step_max = max(np.abs(dw_plus).max(), np.abs(dw_minus).max(), np.abs(db_plus).max(), np.abs(db_minus).max())
        eps_max_all = step_max * np.maximum(1.0, np.abs(h_in).max(axis=1)) * (1 + 1e-9)
        gw = np.zeros(w.shape)
        gb = np.zeros(b.shape)
        exact_pairs = []
        for rows in self._chunks(layer):
            if method == "rows":
                exact_pairs.append(np.argwhere(np.ones((len(rows), b.shape[0]), dtype=bool)) + [rows[0], 0])
                continue
            g, flags = self._series(layer, rows, eps_max_all[rows][:, None])
            x = h_in[rows]
            xp, wp, wm, bp, bm = x, dw_plus, dw_minus, db_plus, db_minus
            for p in range(1, ORDER + 1):
                # (powers by repeated products: np.power is 50x slower for p >= 3)
                gw += (wp - wm) * (xp.T @ g[p])
                gb += (bp - bm) * g[p].sum(axis=0)
                xp, wp, wm, bp, bm = xp * x, wp * dw_plus, wm * dw_minus, bp * db_plus, bm * db_minus
            exact_pairs.append(np.argwhere(flags) + [rows[0], 0])
        pairs = np.concatenate(exact_pairs) if exact_pairs else np.zeros((0, 2), dtype=np.intp)
        if len(pairs):
            self._add_exact(layer, pairs, (dw_plus, dw_minus), (db_plus, db_minus), gw, gb)
        scale = 1.0 / (2 * self.h * self.n)
        gw *= scale
        lam = self.net.weight_decay_lambda
        if lam:
            # The central difference of lambda/2 * w**2 over the steps actually applied (see the top).
            wd = np.asarray(w, dtype=np.float64)
            gw += 0.5 * lam * (2 * wd * (dw_plus - dw_minus) + dw_plus**2 - dw_minus**2) / (2 * self.h)
        return gw, gb * scale

    def _add_exact(self, layer, pairs, dw, db, gw, gb):
        """Add g(eps+) - g(eps-) for every input of every flagged (sample, unit) pair."""
        h_in = self.hs[layer]
        samples, units = pairs[:, 0], pairs[:, 1]
        # Bias rows: one per pair.
        diff = self._exact(layer, samples, units, db[0][units]) - self._exact(layer, samples, units, db[1][units])
        np.add.at(gb, units, diff)
        # Weight rows: one per pair and non-zero input (a zero input leaves the loss unchanged).
        nz_pair, nz_input = np.nonzero(h_in[samples])
        chunk = max(1, _MAX_CHUNK_BYTES // (8 * 4 * max(w.shape[1] for w in self.ws)))
        for start in range(0, len(nz_pair), chunk):
            pi, ii = nz_pair[start : start + chunk], nz_input[start : start + chunk]
            rows, u = samples[pi], units[pi]
            x = h_in[rows, ii]
            diff = self._exact(layer, rows, u, dw[0][ii, u] * x) - self._exact(layer, rows, u, dw[1][ii, u] * x)
            np.add.at(gw, (ii, u), diff)


class FastEngine:
    """The Taylor-series engine: the loop's central differences, thousands of times faster."""

    name = "fast"
    method = "series"

    def __init__(self, net):
        self.net = net

    def numerical_gradient(self, x, t, masks=None) -> dict:
        """``{"W1": ..., "b1": ..., ...}`` in float64; :class:`Unsupported` where the series cannot compute."""
        grads = _Engine(self.net, x, t, masks).gradient(self.method)
        return {key: g for i, pair in enumerate(grads, start=1) for key, g in zip((f"W{i}", f"b{i}"), pair)}


class RowsEngine(FastEngine):
    """The same engine evaluating every perturbed loss by running the layers after the perturbed one."""

    name = "rows"
    method = "rows"
