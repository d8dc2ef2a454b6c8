"""``nnlearn demo SECTION``: the chapter's numbers and figures, section by section; every section is here.

Each section prints the book's numbers exactly (``repr``) with a line of explanation in the command's
language, and writes its figure as a PNG into ``--out``. The chapter's mathematics (:data:`SECTIONS`)
needs no data, and ``nnlearn demo all`` runs it in order; ``minibatch``, ``overfit``, ``numgrad`` and
``routes`` load a data set.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

from nnlearn import datasets
from nnlearn.base.figtext import figure_text
from nnlearn.base.files import check_output_folder, check_output_path
from nnlearn.base.i18n import N_, _
from nnlearn.cli._args import add_data_args, dataset_of, int_at_least, load_arrays, positive_int, print_table
from nnlearn.cli._settings import add_declared_flags
from nnlearn.common.gradient import gradient_descent, numerical_diff, numerical_gradient
from nnlearn.common.gradient_check import time_gradients
from nnlearn.common.losses import cross_entropy_error, mean_squared_error
from nnlearn.common.two_layer_net import TwoLayerNet
from nnlearn.datasets.batches import sample_batch_indices
from nnlearn.train.settings import TrainSettings


def _header(title: str) -> None:
    print(f"\n== {title} ==")


def _wrote(path: Path) -> None:
    print("  " + _("wrote {path}", path=path))


def demo_losses(out: Path) -> None:
    _header(_("4.2 Loss functions: how badly the output y fits the target t"))
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    cases = {
        _("y most confident in class 2 (correct):"): np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]),
        _("y most confident in class 7 (wrong):"): np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]),
    }
    print("  t = one-hot(2)")
    for name, y in cases.items():
        print(f"  {name}")
        print(f"    mean_squared_error(y, t)  = {mean_squared_error(y, t)!r}")
        print(f"    cross_entropy_error(y, t) = {cross_entropy_error(y, t)!r}")
    print("  -> " + _("both losses are smaller when the network is confident in the right class."))

    print("  " + _("Arguments swapped (y one-hot, t the probabilities, 7 classes), as a widely read write-up does:"))
    y_swapped = np.eye(7)[2]
    t_swapped = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mse = mean_squared_error(y_swapped, t_swapped)
        cee = cross_entropy_error(y_swapped, t_swapped)
    print(f"    mean_squared_error  = {mse!r}")
    print(f"    cross_entropy_error = {cee!r}")
    print(
        "  -> "
        + _(
            "log(0 + 1e-7) = -16.1 on every class the one-hot y rules out, so the swapped cross-entropy is "
            "large; nnlearn warned {n} times that the arguments look swapped.",
            n=len(caught),
        )
    )


def demo_derivative(out: Path) -> None:
    from nnlearn.common.plots import function_1, plot_tangent, save_figure

    _header(_("4.3.1-4.3.2 Numerical differentiation of f(x) = 0.01x^2 + 0.1x"))
    for x, true in ((5, 0.2), (10, 0.3)):
        d = numerical_diff(function_1, x)
        print(
            f"  numerical_diff(function_1, {x}) = {d!r}   "
            + _("(true slope {true}; error {error:.1e})", true=true, error=abs(d - true))
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bad = numerical_diff(function_1, 5, h=10e-50, method="forward")
    print("  " + _("forward difference with h=10e-50: {value!r}", value=bad))
    print(
        "    "
        + _(
            "rounding error: 5 + 1e-49 == 5 in float64 (the spacing of floats at 5 is {spacing:.1e}),",
            spacing=np.spacing(5.0),
        )
    )
    print("    " + _("so f(x+h) - f(x) is exactly 0."))
    print(f"  numpy.float32(1e-50) == 0.0: {bool(np.float32(1e-50) == 0.0)!r}")
    print("    " + _("in float32 the step itself rounds to zero (the smallest float32 is about 1.4e-45)."))
    fwd = numerical_diff(function_1, 5, h=1e-4, method="forward")
    print("  " + _("forward difference with h=1e-4: {value!r}", value=fwd))
    print(
        "    " + _("difference vs true slope: (f(x+h) - f(x)) / h is the slope at about x + h/2, an error of order h;")
    )
    print("    " + _("the central difference (f(x+h) - f(x-h)) / 2h is centred on x, its error is of order h^2."))
    _wrote(save_figure(plot_tangent(), out / "tangent.png"))


def demo_partial(out: Path) -> None:
    from nnlearn.common.plots import plot_surface, save_figure

    _header(_("4.3.3 Partial derivatives of f(x0, x1) = x0^2 + x1^2 at (3, 4)"))
    d0 = numerical_diff(lambda x0: x0 * x0 + 4.0**2.0, 3.0)
    d1 = numerical_diff(lambda x1: 3.0**2.0 + x1 * x1, 4.0)
    print(f"  df/dx0 = {d0!r}   " + _("(true 2*x0 = 6; x1 held at 4)"))
    print(f"  df/dx1 = {d1!r}   " + _("(true 2*x1 = 8; x0 held at 3)"))
    _wrote(save_figure(plot_surface(), out / "surface.png"))


def demo_gradient(out: Path) -> None:
    from nnlearn.common.plots import function_2, plot_gradient_field, save_figure

    _header(_("4.4 Gradient of f(x0, x1) = x0^2 + x1^2"))
    for point in ((3.0, 4.0), (0.0, 2.0), (3.0, 0.0)):
        g = numerical_gradient(function_2, np.array(point))
        print(f"  numerical_gradient(function_2, {list(point)}) = {g}   " + _("(exactly: {values})", values=g.tolist()))
    print("  -> " + _("the negative gradient points to the minimum at (0, 0); its length grows with the distance."))
    _wrote(save_figure(plot_gradient_field(), out / "gradient_field.png"))


def demo_descent(out: Path) -> None:
    from nnlearn.common.plots import function_2, plot_descent_path, save_figure

    _header(_("4.4.1 Gradient descent on x0^2 + x1^2 from (-3, 4), 100 steps"))
    notes = {
        0.1: _("converges to the minimum (0, 0)"),
        10.0: _("learning rate too large: diverges"),
        1e-10: _("learning rate too small: barely moves"),
    }
    for lr, note in notes.items():
        x = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=lr, step_num=100)
        print(f"  lr={lr:g}: {x}   ({note})")
    _wrote(save_figure(plot_descent_path(), out / "descent_path.png"))


def demo_rounding(out: Path) -> None:
    from nnlearn.common.derivatives.rounding import plot_rounding_lesson, rounding_table
    from nnlearn.common.plots import save_figure

    _header(_("Rounding against truncation: the error of the slope of f(x) = 0.01x^2 + 0.1x at x = 5"))
    print(rounding_table())
    print("  -> " + _("forward: the error falls like h (truncation) until h ~ 1e-8, then rises like eps/h (rounding)."))
    print(
        "     " + _("central: exact for a quadratic, so only rounding; the book's h = 1e-4 leaves an error of 9e-13.")
    )
    print(
        "     " + _("h = 1e-50: 5 + h == 5, the difference is exactly 0 (float64); float32(1e-50) == 0, so 0/0 = nan.")
    )
    print("     " + _("complex step Im f(x+ih)/h subtracts nothing: no V, full precision for any tiny h."))
    _wrote(save_figure(plot_rounding_lesson(), Path(out) / "rounding.png"))


SECTIONS = {
    "losses": (demo_losses, N_("loss functions: mean squared error and cross-entropy")),
    "derivative": (demo_derivative, N_("numerical differentiation, and why h=1e-50 fails")),
    "rounding": (demo_rounding, N_("truncation against rounding error of numerical derivatives (figure and table)")),
    "partial": (demo_partial, N_("partial derivatives")),
    "gradient": (demo_gradient, N_("gradients and the field of negative gradients")),
    "descent": (demo_descent, N_("gradient descent and the learning rate")),
}


def _run(args) -> int:
    out = check_output_folder(args.out)  # before the first section prints: a wrong --out costs nothing
    for name in args.sections:
        SECTIONS[name][0](out)
    return 0


def add_out_argument(parser) -> None:
    parser.add_argument(
        "--out", default="nnlearn-demo", metavar="DIR", help="folder for the figures (default: ./nnlearn-demo)"
    )


# -- the sections that load a data set ------------------------------------------------------------


def cmd_minibatch(args) -> int:
    from nnlearn.common.plots import save_figure
    from nnlearn.see.images import digits_figure

    out = check_output_folder(args.out)
    (x_train, t_train), _test = datasets.load_dataset(
        dataset_of(args), normalize=True, one_hot_label=True, data_dir=args.data_dir
    )
    _header(_("4.2.3 Mini-batch learning"))
    print(f"  x_train.shape = {x_train.shape}")
    print(f"  t_train.shape = {t_train.shape}")
    train_size = x_train.shape[0]
    rng = np.random.default_rng(args.seed)
    batch_mask = sample_batch_indices(train_size, args.batch_size, rng)
    x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
    labels = t_batch.argmax(axis=1).tolist()
    print(
        f"  batch_mask = rng.choice({train_size}, {args.batch_size})  "
        + _("(seed {seed}, with replacement)", seed=args.seed)
    )
    print(f"  batch_mask = {batch_mask.tolist()}")
    print(f"  labels     = {labels}")
    print(f"  x_batch.shape = {x_batch.shape}, t_batch.shape = {t_batch.shape}")
    print("  -> " + _("each step learns from this random handful instead of all {n} images.", n=train_size))
    shown = min(len(batch_mask), 50)
    fig = digits_figure(x_batch[:shown], [f"[{i}]: {k}" for i, k in zip(batch_mask[:shown], labels)])
    print(
        "  "
        + _("wrote {path}", path=save_figure(fig, out / "minibatch.png"))
        + ("  " + _("(the first {n} of the batch)", n=shown) if shown < len(batch_mask) else "")
    )
    return 0


def cmd_overfit(args) -> int:
    from nnlearn.common.evaluation import plot_accuracy_panels
    from nnlearn.common.plots import save_figure
    from nnlearn.see.overfitting import compare_remedies, overfitting_settings

    dataset = dataset_of(args)
    (x_train, t_train), (x_test, t_test) = load_arrays(dataset, args.data_dir)
    if args.train_size > len(x_train):
        args.parser.error(_("argument --train-size: the data set has only {n} training images", n=len(x_train)))
    if args.test_size is not None:
        if args.test_size > len(x_test):
            args.parser.error(_("argument --test-size: the data set has only {n} test images", n=len(x_test)))
        x_test, t_test = x_test[: args.test_size], t_test[: args.test_size]
    base = overfitting_settings(args.train_size, args.epochs, args.seed)
    print(
        _(
            "overfitting: a {sizes} ReLU network, SGD lr 0.01, trained on only {n} {dataset} images for {epochs} "
            "epochs, judged on {test} test images -- plain, with weight decay, with dropout",
            sizes="-".join(map(str, [x_train.shape[1], *base.hidden_size, int(np.max(t_train)) + 1])),
            n=args.train_size,
            dataset=dataset,
            epochs=args.epochs,
            test=len(x_test),
        )
    )
    curves = compare_remedies(
        x_train,
        t_train,
        x_test,
        t_test,
        train_size=args.train_size,
        epochs=args.epochs,
        weight_decay_lambda=args.weight_decay_lambda,
        dropout_ratio=args.dropout_ratio,
        seed=args.seed,
        progress=args.progress,
    )
    gaps = {}
    for name, (_epochs, train_acc, test_acc) in curves.items():
        gaps[name] = train_acc[-1] - test_acc[-1]
        print(
            f"{name:<18} "
            + _(
                "train accuracy {train:7.2%}, test accuracy {test:7.2%}: a gap of {gap:6.1%}",
                train=train_acc[-1],
                test=test_acc[-1],
                gap=gaps[name],
            )
        )
    with figure_text():  # the title in the figure's language
        figure = plot_accuracy_panels(
            curves, title=_("Overfitting on {n} training samples, and two remedies", n=args.train_size)
        )
    png = save_figure(figure, Path(args.out) / "overfit.png")
    print(
        _(
            "Plain, the network memorises its few samples instead of learning what generalises; weight decay (large "
            "weights cost loss) and dropout (no unit can be relied on) narrow the gap between train and test. Dropout "
            "also learns more slowly: the book trains its dropout network for 301 epochs (--epochs 301)."
        )
    )
    print(_("gaps: {gaps}", gaps=", ".join(f"{name} {gap:.1%}" for name, gap in gaps.items())))
    print(_("figure: {path}", path=png))
    return 0


def cmd_numgrad(args) -> int:
    dataset = dataset_of(args)
    (x_train, t_train), _test = load_arrays(dataset, args.data_dir)
    batch = np.random.default_rng(0).choice(len(x_train), 100)
    net = TwoLayerNet(x_train.shape[1], 50, int(np.max(t_train)) + 1, seed=0)
    n_params = sum(p.size for p in net.params.values())
    print(
        _(
            "the gradient of TwoLayerNet({inputs}, 50, {outputs}) -- {n} parameters -- on a batch of 100 {dataset} "
            "training images, float64",
            inputs=x_train.shape[1],
            outputs=net.sizes[-1],
            n=n_params,
            dataset=dataset,
        )
    )
    rows = time_gradients(net, x_train[batch].astype(np.float64), t_train[batch], loop_sample=args.sample)
    names = {
        "loop": _("numerical, the book's loop"),
        "fast": _("numerical, fast engine"),
        "backprop": _("backpropagation"),
    }
    print_table(
        [_("method"), _("seconds"), _("vs the loop"), _("max |difference| from the loop")],
        [[names[r["method"]], f"{r['seconds']:.4f}", f"{r['speedup']:.0f}x", f"{r['max_abs_diff']:.1e}"] for r in rows],
        [28, 10, 12, 31],
    )
    print(
        _(
            "(the loop's time is for {sample} elements of each parameter, extrapolated to all {n})",
            sample=args.sample,
            n=n_params,
        )
    )
    print(
        _(
            "The loop perturbs one weight at a time and runs the whole network twice for each: 2 x {n} forward passes. "
            "Backpropagation gets the exact gradient from one forward and one backward pass.",
            n=n_params,
        )
    )
    print(
        _(
            "The fast engine computes the loop's very central differences without those passes: perturbing one weight "
            "moves one pre-activation, so it expands each sample's loss as a Taylor series in that pre-activation (to "
            "the 5th power) and sums the terms with a few matrix products."
        )
    )
    return 0


def cmd_routes(args) -> int:
    from nnlearn.common.plots import save_figure
    from nnlearn.see import routes

    # The figures come after a minute of work: a --out that cannot take them is refused first.
    out = check_output_folder(args.out)
    for name in ("routes_accuracy.png", "routes_mistakes.png"):
        check_output_path(out / name)
    routes.require_classic()  # before loading anything: say at once what is missing
    (x_train, t_train), (x_test, t_test) = datasets.load_dataset("mnist", data_dir=args.data_dir)
    if args.train_size < len(x_train):
        # A fixed seed picks the same subset every time, so the table is reproducible.
        keep = np.sort(np.random.default_rng(args.seed).choice(len(x_train), args.train_size, replace=False))
        x_train, t_train = x_train[keep], t_train[keep]
    x_test, t_test = x_test[: args.test_size], t_test[: args.test_size]
    print(
        _("training on {train} images, testing on {test} that no route has seen", train=len(x_train), test=len(x_test))
    )
    results = routes.run_routes(x_train, t_train, x_test, t_test, seed=args.seed, progress=sys.stderr.isatty())
    print_table(*routes.table(results), least=[0, 13, 9, 11])
    for r in results:
        if r.note:
            print(f"  {r.name}: {r.note}")
    _wrote(save_figure(routes.plot_accuracy(results, len(x_train), len(x_test)), out / "routes_accuracy.png"))
    _wrote(save_figure(routes.plot_mistakes(results, x_test, t_test), out / "routes_mistakes.png"))
    return 0


def register(commands) -> None:
    demo = commands.add_parser(
        "demo",
        help="reproduce a section of the chapter: numbers and figures",
        description="Reproduce a section of the chapter: print its numbers and write its figures.",
    )
    demos = demo.add_subparsers(dest="demo", metavar="SECTION", required=True)
    for name, (_section, help_text) in SECTIONS.items():
        p = demos.add_parser(name, help=help_text, description=help_text)
        add_out_argument(p)
        p.set_defaults(func=_run, sections=[name])
    p = demos.add_parser("all", help="every section of the chapter's mathematics, in order")
    add_out_argument(p)
    p.set_defaults(func=_run, sections=list(SECTIONS))

    p = demos.add_parser(
        "minibatch",
        help="4.2.3 mini-batch learning: the data's shapes and a random batch of 10",
        description="Load MNIST as the chapter does and draw a mini-batch with np.random.choice semantics; "
        "write the batch's images to OUT/minibatch.png.",
    )
    add_data_args(p)
    p.add_argument("--batch-size", type=positive_int, default=10)
    p.add_argument("--seed", type=int_at_least(0), default=0)
    add_out_argument(p)
    p.set_defaults(func=cmd_minibatch)

    p = demos.add_parser(
        "overfit",
        help="overfitting and its remedies: a deep net on 300 samples, plain, with weight decay, with dropout",
        description="Train a 7-layer ReLU network (6 x 100 hidden) on only --train-size training samples "
        "with SGD: training accuracy climbs to 100% while test accuracy stalls far below -- overfitting. "
        "Then the same network and data with the book's weight decay (lambda 0.1) and with its Dropout "
        "(ratio 0.2): the gap between train and test accuracy narrows. One figure, three panels.",
    )
    add_data_args(p)
    p.add_argument("--train-size", type=positive_int, default=300, metavar="N")
    p.add_argument(
        "--test-size",
        type=positive_int,
        metavar="N",
        help="judge on the first N test images only (default: all; fewer is faster)",
    )
    add_declared_flags(
        p,
        TrainSettings,
        only=("epochs", "weight_decay_lambda", "dropout_ratio", "seed"),
        default="200 epochs; the book's weight decay 0.1 and dropout 0.2 for their runs; seed 0",
    )
    p.set_defaults(epochs=200, weight_decay_lambda=0.1, dropout_ratio=0.2, seed=0)
    add_out_argument(p)
    p.add_argument("--progress", action=argparse.BooleanOptionalAction)
    p.set_defaults(func=cmd_overfit, parser=p)

    p = demos.add_parser(
        "numgrad",
        help="why backpropagation: the numerical gradient's loop, the fast engine and backprop timed",
        description="On one real batch of 100 images, compute TwoLayerNet(784, 50, 10)'s gradient three ways -- "
        "the book's plain loop of central differences (on a sample of elements, time extrapolated), the fast "
        "engine that gives the loop's numbers, and backpropagation -- and print their times and agreement.",
    )
    add_data_args(p)
    p.add_argument(
        "--sample",
        type=positive_int,
        default=1000,
        metavar="N",
        help="elements of each parameter the plain loop computes (default 1000)",
    )
    p.set_defaults(func=cmd_numgrad)

    p = demos.add_parser(
        "routes",
        help="a rule, hand-made features + classic ML, and a network: who reads digits best?",
        description="Three routes to recognising a digit, judged on the same test images (all 10,000 by default).",
    )
    p.add_argument(
        "--train-size", type=int_at_least(10), default=60000, metavar="N", help="training images (default all 60000)"
    )
    p.add_argument(
        "--test-size",
        type=positive_int,
        default=10000,
        metavar="N",
        help="judge on the first N test images (default all 10000)",
    )
    p.add_argument(
        "--seed", type=int_at_least(0), default=0, help="seed for the training subset and the network (default 0)"
    )
    add_data_args(p, dataset=False)
    add_out_argument(p)
    p.set_defaults(func=cmd_routes)
