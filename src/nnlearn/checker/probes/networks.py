"""Probes of the chapter's networks: ``simpleNet`` (4.4.2) and ``TwoLayerNet`` (4.5.1, its ``gradient``
from 5.7.2), built and called as the book does, their weights set to known values *in place*, and
every method compared with nnlearn's network holding the same weights. Each method is judged on its
own: a wrong ``predict`` is reported there, not again in ``loss`` and the gradients.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from nnlearn.checker.probes.activations import columns, whole_batch
from nnlearn.checker.probes.base import Stop
from nnlearn.checker.probes.isolation import book_cross_entropy_error, book_predict, judged
from nnlearn.checker.probes.losses import swapped_values
from nnlearn.checker.values import close, frozen, ratio, show, to_array, to_scalar
from nnlearn.common.functions import sigmoid, softmax
from nnlearn.common.simple_net import SimpleNet
from nnlearn.common.two_layer_net import TwoLayerNet

KEYS = ("W1", "b1", "W2", "b2")
BOOK_W = frozen([[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]])
BOOK_X = frozen([0.6, 0.9])
BOOK_T = frozen([0, 0, 1])
#: The small network the methods are judged on: 5 inputs, 4 hidden units, 3 classes, a batch of 4.
SIZES = (5, 4, 3)
#: A loss may add the book's delta or clip at it: 1e-7 / y differs by up to ~1e-6 of the loss.
LOSS_RTOL = 1e-5
#: A numerical gradient against the exact one, relative to the largest element: a step h up to 1e-3
#: (the range the derivative probes accept without a warning) is off by ~h**2 = 1e-6.
NUMERICAL_TOL = 1e-4


def _run(thunk):
    """Run one row's checks; a Stop ends that row only. Returns whether the row ran to its end."""
    try:
        thunk()
        return True
    except Stop:
        return False


def _central(p, obj, arrays, loss, args, shown):
    """Our own central difference of the reader's ``loss(*args)`` over each of the network's own arrays,
    perturbed in place: ``arrays`` maps a name to the array's path on ``obj`` and its current values."""
    grads = {}
    for key, (path, values) in arrays.items():
        grad = np.zeros(values.shape)
        for idx in np.ndindex(values.shape):
            old = values[idx]
            p.write(obj, path, old + 1e-4, index=idx)
            up = to_scalar(p.call(loss, *args, show_input=shown, mutation=None))
            p.write(obj, path, old - 1e-4, index=idx)
            down = to_scalar(p.call(loss, *args, show_input=shown, mutation=None))
            p.write(obj, path, old, index=idx)
            grad[idx] = (up - down) / 2e-4 if up is not None and down is not None else np.nan
        grads[key] = grad
    return grads


def _probe_methods(cls, probes, methods, active, isolation, fresh, net, checks, reset, book_method) -> set:
    """Probe each method row of ``checks`` (``(row, check)`` in the book's order) that the class has and
    was asked for (the first six arguments are the class probe's own), each judged on its own code
    (:func:`judged`): the reader's failing functions, and the network's own failing methods it calls,
    stood in for by the book's. ``reset(probe)`` writes the known weights again; ``book_method(row)``:
    the child's stand-in for a failing method row (``(kind, path)``), or None. ``check(probe, method,
    state)`` may leave in ``state`` what later checks read: the reader's own ``y``, and whether each
    method is right as it is."""
    state, failed, done = {}, [], set()
    for row, check in checks:
        spelling, owner = methods[row], probes[row.partition(".")[0]]
        if spelling is None or row not in active:
            continue
        method = owner.attr(net, spelling)

        def run(row=row, check=check, spelling=spelling):
            probe = fresh(row)
            reset(probe)
            _run(lambda: check(probe, probe.attr(net, spelling), state))
            return probe

        def stand_ins(only=None, method=method):
            book = {dep: (methods[dep], *book_method(dep)) for dep in failed if book_method(dep)}
            return isolation.applied(method, cls, frozenset(methods[r] for r in failed), only, net, book)

        probe, probe.uses = judged(run, stand_ins)
        probes[row] = probe
        own_ok = all(f.severity != "fail" for f in probe.findings)
        state[row.partition(".")[2]] = own_ok and not probe.uses  # right as it is, its dependencies included
        if not own_ok:
            failed.append(row)
        done.add(row)
    return done


# -- simpleNet ---------------------------------------------------------------------------------------


def _simple_net(p, cls):
    """A simpleNet with the book's W written into its own array (``net.W``, or ``net.params['W']``)."""
    net = p.call(cls, show_input="simpleNet()")
    path, W = ("W",), p.attr(net, "W")
    if not isinstance(W, np.ndarray):
        params = p.attr(net, "params")
        path, W = ("params", "W"), params.get("W") if isinstance(params, dict) else None
    if not isinstance(W, np.ndarray) or W.shape != (2, 3):
        p.fail("book-interface", "simpleNet()", f"W = {show(W)}", "W of shape (2, 3)")
    if not p.write(net, path, BOOK_W):
        p.fail("book-interface", "simpleNet()", f"W = {show(W)}", "a writable W of shape (2, 3)")
    return net, (path, BOOK_W.astype(W.dtype))


def probe_simple_net(cls, probes, methods, active, isolation, fresh):
    try:
        net, W = _simple_net(probes["simpleNet"], cls)
    except Stop:
        return set()
    ref = SimpleNet(W=BOOK_W)
    checks = [
        ("simpleNet.predict", partial(_check_simple_predict, ref=ref)),
        ("simpleNet.loss", partial(_check_simple_loss, net=net, W=W, ref=ref)),
    ]
    book = {"simpleNet.predict": ("simple_predict", W[0])}
    reset = lambda probe: probe.write(net, W[0], BOOK_W)  # noqa: E731
    return {"simpleNet"} | _probe_methods(cls, probes, methods, active, isolation, fresh, net, checks, reset, book.get)


def _check_simple_predict(p, predict, state, ref):
    shown = f"net.predict({show(BOOK_X)})"
    got = p.call(predict, BOOK_X, show_input=shown)
    if not close(got, ref.predict(BOOK_X)):
        p.wrong(shown, got, ref.predict(BOOK_X))


def _check_simple_loss(p, loss, state, net, W, ref):
    shown = f"net.loss({show(BOOK_X)}, {show(BOOK_T)})"
    got = p.call(loss, BOOK_X.copy(), BOOK_T.copy(), show_input=shown)
    expected = ref.loss(BOOK_X, BOOK_T)
    if not close(to_scalar(got), expected, rtol=LOSS_RTOL):
        y = softmax(ref.predict(BOOK_X))
        if any(close(to_scalar(got), s, rtol=1e-6) for s in swapped_values(y, BOOK_T)):
            p.fail("swapped-arguments", shown, got, expected, section="4.2.2")
        # one-hot t given to a label-index loss (the reader's cross_entropy_error_2): each 0/1 read as a label
        labels_of_one_hot = -np.sum(np.log(y.reshape(1, -1)[np.arange(1), BOOK_T.reshape(1, -1)] + 1e-7))
        if close(to_scalar(got), labels_of_one_hot, rtol=1e-6):
            p.fail("labels-vs-one-hot", shown, got, expected, details=[("one-hot-to-labels", {})])
        p.wrong(shown, got, expected)
    grads = _central(p, net, {"W": W}, loss, (BOOK_X, BOOK_T), shown)
    expected_grad = ref.numerical_gradient(BOOK_X, BOOK_T)["W"]
    if not close(grads["W"], expected_grad, rtol=1e-5, atol=1e-7):
        details = [("zeros", {})] if close(grads["W"], np.zeros((2, 3))) else []
        shown = f"numerical_gradient(lambda W: net.loss(x, t), net.W) at W = {show(BOOK_W)}"
        p.wrong(shown, grads["W"], expected_grad, details=details)


# -- TwoLayerNet -------------------------------------------------------------------------------------


def _shape(name, got, expected) -> tuple:
    """The ``shape`` detail: the array ``name`` has shape ``got``, not ``expected``."""
    return ("shape", {"name": name, "got": str(got), "expected": str(expected)})


def _keys(d) -> tuple:
    """The ``keys`` detail: the keys of ``d`` (None: not a dict), and the book's."""
    return ("keys", {"got": show(sorted(map(str, d)) if isinstance(d, dict) else None), "expected": list(KEYS)})


def _params(p, net, sizes, shown):
    """The reader's ``net.params`` after checking the book's keys and shapes (else ``book-interface``)."""
    params = p.attr(net, "params")
    if not isinstance(params, dict) or any(not isinstance(params.get(k), np.ndarray) for k in KEYS):
        p.fail(
            "book-interface", shown, f"params = {show(params)}", "params with W1, b1, W2, b2", details=[_keys(params)]
        )
    i, h, o = sizes
    for key, shape in (("W1", (i, h)), ("b1", (h,)), ("W2", (h, o)), ("b2", (o,))):
        got = params[key].shape
        if got != shape and not (key[0] == "b" and params[key].size == shape[0]):
            p.fail("book-interface", shown, f"{key}.shape = {got}", f"{shape}", details=[_shape(key, got, shape)])
    return params


def _check_shared(p, cls):
    """Two networks of different sizes: the first keeps its own weights (no class-level ``params``)."""
    first = p.call(cls, *SIZES, show_input=f"TwoLayerNet{SIZES}")
    kept = {k: np.array(v) for k, v in _params(p, first, SIZES, f"TwoLayerNet{SIZES}").items() if k in KEYS}
    shown = f"a = TwoLayerNet{SIZES}; b = TwoLayerNet(3, 2, 2)"
    p.call(cls, 3, 2, 2, show_input=shown)
    now = p.attr(first, "params")  # copies, as the child holds them after the second network was built
    now = now if isinstance(now, dict) else {}
    if any(not isinstance(now.get(k), np.ndarray) or not np.array_equal(now[k], kept[k]) for k in KEYS):
        p.fail("shared-params", shown, f"a.params['W1'].shape = {np.shape(now.get('W1'))}", f"{SIZES[:2]}")


def _check_init(p, cls):
    """The weights drawn with the default weight_init_std (0.01), then with 0.1."""
    _check_shared(p, cls)
    for shown, extra, expected in (
        ("TwoLayerNet(input_size=784, hidden_size=100, output_size=10)", (), 0.01),
        ("TwoLayerNet(784, 100, 10, weight_init_std=0.1)", (0.1,), 0.1),
    ):
        params = _params(p, p.call(cls, 784, 100, 10, *extra, show_input=shown), (784, 100, 10), shown)
        std = float(np.std(params["W1"]))
        if np.isclose(std, expected, rtol=0.1):
            continue
        details = [("std", {"std": f"{std:.3g}", "expected": expected})]
        if not extra and np.isclose(std, 1.0, rtol=0.1):
            p.fail("init-not-scaled", shown, f"std(W1) = {std:.3g}", f"{expected}", details=details)
        p.add(p.finding("init-std-ignored", shown, f"std(W1) = {std:.3g}", f"{expected}", details=details))
        return


class Fixture:
    """The small network with known weights, its batch, and nnlearn's network holding the same weights."""

    def __init__(self, p, cls):
        shown = f"TwoLayerNet({', '.join(map(str, SIZES))})"
        self.net = p.call(cls, *SIZES, show_input=shown)
        self.params = _params(p, self.net, SIZES, shown)  # copies: their shapes and dtypes
        rng = np.random.default_rng(4)
        #: The known weights in the network's own dtypes and shapes.
        self.initial = {
            k: ((0.5 if k[0] == "W" else 0.1) * rng.standard_normal(self.params[k].shape)).astype(self.params[k].dtype)
            for k in KEYS
        }
        for key in KEYS:  # written into the network's own arrays (read-only ones refuse), which must hold floats
            if self.params[key].dtype.kind != "f" or not p.write(self.net, ("params", key), self.initial[key]):
                p.fail("book-interface", shown, f"params[{key!r}]: {show(self.params[key])}", "writable float arrays")
        self.values = {k: np.array(self.initial[k], dtype=np.float64) for k in KEYS}
        self.float32 = any(self.params[k].dtype == np.float32 for k in KEYS)
        self.ref = TwoLayerNet(*SIZES)
        for key in KEYS:
            self.ref.params[key][...] = self.values[key].reshape(self.ref.params[key].shape)
        self.x = rng.random((4, SIZES[0]))
        predicted = self.ref.classify(self.x)
        # two of the four samples are predicted right: accuracy 0.5
        self.labels = np.array([predicted[0], predicted[1], (predicted[2] + 1) % 3, (predicted[3] + 2) % 3])
        self.t = np.eye(SIZES[2])[self.labels]
        self.rtol = 1e-4 if self.float32 else 1e-6
        self.loss_fn = None

    def reset(self, p) -> None:
        """The known weights again, written into the reader's own arrays."""
        for key in KEYS:
            p.write(self.net, ("params", key), self.initial[key])

    def restored(self, p) -> bool:
        params = p.attr(self.net, "params")
        return isinstance(params, dict) and all(
            isinstance(params.get(k), np.ndarray)
            and np.array_equal(np.asarray(params[k], dtype=np.float64), self.values[k])
            for k in KEYS
        )

    def call_text(self, method, *args) -> str:
        """``net.loss(x, t)  # x.shape == (4, 5), t.shape == (4, 3)``: the batch is the fixture's (a
        comment, not the word "with": the same in every language of the report)."""
        names = ["x", "t"][: len(args)]
        shapes = ", ".join(f"{n}.shape == {np.shape(a)}" for n, a in zip(names, args))
        return f"net.{method}({', '.join(names)})  # {shapes}"


#: A finding on the class row after which its methods cannot be judged.
_BLOCKING = ("raised-exception", "signature", "timeout", "book-interface")


def probe_two_layer_net(cls, probes, methods, active, isolation, fresh):
    p = probes["TwoLayerNet"]
    if "TwoLayerNet" in active and not _run(lambda: _check_init(p, cls)):
        if any(f.id in _BLOCKING for f in p.findings):
            return {"TwoLayerNet"}
    try:
        fx = Fixture(p, cls)
    except Stop:
        return {"TwoLayerNet"}
    loss = methods["TwoLayerNet.loss"]
    fx.loss_fn = p.attr(fx.net, loss) if loss else None
    checks = [
        (f"TwoLayerNet.{name}", partial(check, fx=fx))
        for name, check in (
            ("predict", _check_predict),
            ("loss", _check_loss),
            ("accuracy", _check_accuracy),
            ("numerical_gradient", _check_numerical_gradient),
            ("gradient", _check_gradient),
        )
    ]
    book = {"TwoLayerNet.predict": ("predict", ()), "TwoLayerNet.loss": ("loss", ())}
    return {"TwoLayerNet"} | _probe_methods(
        cls, probes, methods, active, isolation, fresh, fx.net, checks, fx.reset, book.get
    )


def _check_predict(p, predict, state, fx):
    shown = fx.call_text("predict", fx.x)
    got = p.call(predict, fx.x.copy(), show_input=shown)
    expected = fx.ref.predict(fx.x)
    state["y"] = got
    if close(got, expected, rtol=fx.rtol):
        return
    logits = fx.ref.logits(fx.x)
    if close(got, logits, rtol=fx.rtol):
        p.fail("no-softmax", shown, got, expected)
    for detail, variant in (("extra-sigmoid", softmax(sigmoid(logits))), ("softmax-twice", softmax(softmax(logits)))):
        if close(got, variant, rtol=fx.rtol):
            p.fail("extra-activation", shown, got, expected, details=[(detail, {})])
    for name in ("b1", "b2"):
        if close(got, book_predict({**fx.values, name: 0.0}, fx.x), rtol=fx.rtol):
            p.fail("bias-not-added", shown, got, expected, details=[("bias", {"name": name})])
    for detail, variant in (("whole-batch", whole_batch(logits)), ("axis0", columns(logits))):
        if close(got, variant, rtol=fx.rtol):
            p.fail("softmax-axis", shown, got, expected, details=[(detail, {})], section="3.5")
    p.wrong(shown, got, expected)


def _check_loss(p, loss, state, fx):
    shown = fx.call_text("loss", fx.x, fx.t)
    got = p.call(loss, fx.x.copy(), fx.t.copy(), show_input=shown)
    expected = fx.ref.loss(fx.x, fx.t)
    if close(to_scalar(got), expected, rtol=max(LOSS_RTOL, fx.rtol)):
        return
    y = fx.ref.predict(fx.x)
    if any(close(to_scalar(got), s, rtol=1e-6) for s in swapped_values(y, fx.t)):
        p.fail("swapped-arguments", shown, got, expected, section="4.2.2")
    if close(to_scalar(got), expected * len(fx.x), rtol=fx.rtol):
        p.fail("sum-not-mean", shown, got, expected, section="4.2.4")
    if close(to_scalar(got), book_cross_entropy_error(softmax(y), fx.t), rtol=max(LOSS_RTOL, fx.rtol)):
        p.fail("extra-activation", shown, got, expected, details=[("softmax-twice", {})])
    own = to_array(state.get("y"))
    if not state.get("predict", True) and own is not None and own.shape == y.shape:
        own_loss = -np.sum(fx.t * np.log(own + 1e-7)) / len(fx.x)
        if close(to_scalar(got), own_loss, rtol=1e-5):
            return  # the loss of the reader's own predict: the mistake is predict's, reported there
    p.wrong(shown, got, expected)


def _check_accuracy(p, accuracy, state, fx):
    shown = fx.call_text("accuracy", fx.x, fx.t)
    outcome = p.attempt(accuracy, fx.x.copy(), fx.t.copy(), show_input=shown)
    expected = 0.5
    if outcome.ok and close(to_scalar(outcome.value), expected):
        return
    if outcome.ok and close(to_scalar(outcome.value), 1.0):
        wrong_t = np.eye(SIZES[2])[(fx.ref.classify(fx.x) + 1) % SIZES[2]]
        again = p.attempt(accuracy, fx.x.copy(), wrong_t, show_input=fx.call_text("accuracy", fx.x, wrong_t))
        if again.ok and close(to_scalar(again.value), 1.0):
            p.fail("accuracy-self-compare", shown, outcome.value, expected, details=[("always-one", {})])
    own = to_array(state.get("y"))
    if outcome.ok and not state.get("predict", True) and own is not None and own.ndim == 2:
        if close(to_scalar(outcome.value), np.mean(own.argmax(axis=1) == fx.labels)):
            return
    with_labels = p.attempt(
        accuracy, fx.x.copy(), fx.labels.copy(), show_input=fx.call_text("accuracy", fx.x, fx.labels)
    )
    if with_labels.ok and close(to_scalar(with_labels.value), expected):
        got = outcome.value if outcome.ok else outcome.error.text
        p.fail("accuracy-one-hot", shown, got, expected, where=() if outcome.ok else outcome.error.where)
    if not outcome.ok:
        p.raised(outcome.error, shown, "net.accuracy(x, t)")
    p.wrong(shown, outcome.value, expected)


def _expected_grads(p, fx, loss_ok, shown) -> list:
    """What the gradients may be: nnlearn's backpropagation, and -- when the reader's loss is wrong --
    also the central difference of that loss (a gradient right for the loss it goes with)."""
    grads = fx.ref.gradient(fx.x, fx.t)
    candidates = [{k: grads[k].reshape(fx.params[k].shape) for k in KEYS}]
    if not loss_ok and fx.loss_fn is not None:
        arrays = {k: (("params", k), fx.initial[k]) for k in KEYS}
        candidates.append(_central(p, fx.net, arrays, fx.loss_fn, (fx.x, fx.t), shown))
    return candidates


def _grads_of(p, got, shown, expected) -> dict:
    """The reader's gradient dict as float arrays of the parameters' shapes (else book-interface or wrong-shape)."""
    present = [k for k in KEYS if isinstance(got, dict) and to_array(got.get(k)) is not None]
    if isinstance(got, dict) and present and len(present) < len(KEYS) and set(map(str, got)) <= set(KEYS):
        p.fail("grad-wrong-key", shown, show(sorted(map(str, got))), show(list(KEYS)), details=[_keys(got)])
    if not isinstance(got, dict) or any(to_array(got.get(k)) is None for k in KEYS):
        p.fail("book-interface", shown, got, "{'W1': ..., 'b1': ..., 'W2': ..., 'b2': ...}", details=[_keys(got)])
    arrays = {}
    for k in KEYS:
        arr = to_array(got[k])
        if arr.size != expected[k].size:
            want, where = expected[k].shape, f"{shown} -> grads[{k!r}]"
            p.fail("wrong-shape", where, f"shape {arr.shape}", f"shape {want}", details=[_shape(k, arr.shape, want)])
        arrays[k] = arr.reshape(expected[k].shape)
    return arrays


def _disagreeing(got, expected, tol) -> list:
    return [
        k
        for k in KEYS
        if not close(got[k], expected[k], rtol=0, atol=tol * max(1.0, float(np.max(np.abs(expected[k])))))
    ]


def _compare_grads(p, fx, got, candidates, shown, finding_id, tol):
    """The reader's gradients against each candidate; a failure names the parameters that differ."""
    expected = candidates[0]
    arrays = _grads_of(p, got, shown, expected)
    if any(not _disagreeing(arrays, c, tol) for c in candidates):
        return
    bad = _disagreeing(arrays, expected, tol)
    key = bad[0]
    details = [("disagree", {"names": ", ".join(bad)})]
    if all(close(arrays[k], np.zeros(expected[k].shape)) for k in bad) and finding_id != "backprop-mismatch":
        p.fail(
            "copy-not-in-place", shown, arrays[key], expected[key], details=[*details, ("zeros", {})], section="4.4.2"
        )
    factor = ratio(
        np.concatenate([arrays[k].ravel() for k in KEYS]), np.concatenate([expected[k].ravel() for k in KEYS])
    )
    if factor is not None and abs(factor - 1) > 1e-3:
        details.append(("factor", {"factor": f"{factor:.4g}"}))
    p.fail(finding_id, f"{shown} -> grads[{key!r}]", arrays[key], expected[key], details=details)


def _check_numerical_gradient(p, numerical_gradient, state, fx):
    shown = fx.call_text("numerical_gradient", fx.x, fx.t)
    got = p.call(numerical_gradient, fx.x.copy(), fx.t.copy(), show_input=shown, mutation=None)
    if not fx.restored(p):
        p.fail("x-not-restored", shown, "net.params changed", "net.params unchanged", section="4.4")
    expected = _expected_grads(p, fx, state.get("loss", True), shown)
    if fx.float32:
        p.add(p.finding("float32-precision", shown, details=[("params-dtype", {"dtype": "float32"})]))
    _compare_grads(p, fx, got, expected, shown, "wrong-result", 5e-2 if fx.float32 else NUMERICAL_TOL)


def _check_gradient(p, gradient, state, fx):
    shown = fx.call_text("gradient", fx.x, fx.t)
    got = p.call(gradient, fx.x.copy(), fx.t.copy(), show_input=shown, mutation=None)
    expected = _expected_grads(p, fx, state.get("loss", True), shown)
    _compare_grads(p, fx, got, expected, shown, "backprop-mismatch", 1e-4 if fx.float32 else 1e-6)
