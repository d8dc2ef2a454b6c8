"""``nnlearn train``, ``evaluate``, ``predict``, ``gradcheck`` and ``nnlearn demo overfit``.

Each command parses its arguments, calls the library (:mod:`nnlearn.runs` for run directories) and
prints; the run directory's files are described in :mod:`nnlearn.runs`.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from nnlearn import engines
from nnlearn.cli._args import add_data_args, int_at_least, positive_float
from nnlearn.errors import NnlearnError
from nnlearn.multi_layer_net import ACTIVATIONS, DTYPES, INITS, LOSSES
from nnlearn.optimizer import OPTIMIZERS
from nnlearn.settings import GRADS, LR_SCHEDULES, RECIPES, SAMPLINGS

# Settings (nnlearn.settings.TrainSettings) that a flag can override, with the flag's name.
_FLAGS = {
    "hidden": "--hidden",
    "activation": "--activation",
    "weight_init_std": "--init",
    "optimizer": "--optimizer",
    "lr": "--lr",
    "batch_size": "--batch-size",
    "iters": "--iters",
    "epochs": "--epochs",
    "sampling": "--sampling",
    "lr_schedule": "--lr-schedule",
    "dtype": "--dtype",
    "grad": "--grad",
    "engine": "--engine",
    "weight_decay": "--weight-decay",
    "dropout": "--dropout",
    "validation": "--validation",
}


def _attr(key: str) -> str:
    """The argparse attribute of a recipe setting (``--init`` sets ``weight_init_std``)."""
    return "init" if key == "weight_init_std" else key


# -- argument types: a bad value is an argparse error (usage line, exit 2), never a traceback --------


_positive_int = int_at_least(1, "a positive integer")
_nonnegative_int = int_at_least(0, "a non-negative integer")
_positive_float = positive_float


def _number(text: str, ok, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and ok(value)):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value


def _weight_decay(text: str) -> float:
    return _number(text, lambda v: v >= 0, "a number >= 0 (the book's lambda, e.g. 0.1)")


def _dropout(text: str) -> float:
    return _number(text, lambda v: 0 <= v < 1, "a ratio in [0, 1) (the book uses 0.2)")


def _validation(text: str):
    """A share in (0, 1) (``0.1``) or a whole number of samples (``10000``)."""
    what = "a share in (0, 1) such as 0.1, or a number of samples such as 10000"
    try:
        value = int(text)
    except ValueError:
        return _number(text, lambda v: 0 < v < 1, what)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value


def _init(text: str):
    if text.lower() in INITS:
        return INITS[text.lower()]
    try:
        return _positive_float(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"must be a positive number (e.g. 0.01), 'xavier' or 'he'; got {text!r}"
        ) from None


def register(commands, demos) -> None:
    p = commands.add_parser(
        "train",
        help="train a network on MNIST (the book's recipe by default) and judge it on test data",
        description="Train a network by mini-batch gradient descent; write a run directory with the "
        "metrics, figures, model and checkpoint. Defaults are the book's recipe: 784-50-10 sigmoid, "
        "std 0.01, SGD lr 0.1, batch 100, 10000 iterations. Ctrl-C saves a checkpoint; --resume continues.",
    )
    p.add_argument("--recipe", choices=tuple(RECIPES), default=None,
                   help="named settings: book (default; ch. 4, about 94.7%%) or strong (784-512-256-10 ReLU, "
                        "He init, Adam with cosine decay, 8 epochs, float32: about 98.4%% in a few seconds)")
    add_data_args(p)
    p.add_argument("--hidden", type=_positive_int, nargs="+", metavar="N",
                   help="hidden layer sizes, e.g. --hidden 100 50")
    p.add_argument("--activation", choices=tuple(ACTIVATIONS))
    p.add_argument("--init", type=_init, metavar="STD", help="weight init: a standard deviation (0.01), xavier or he")
    p.add_argument("--optimizer", choices=tuple(OPTIMIZERS))
    p.add_argument("--lr", type=_positive_float, help="learning rate")
    p.add_argument("--batch-size", type=_positive_int, metavar="N")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--iters", type=_positive_int, metavar="N", help="number of iterations (updates)")
    length.add_argument("--epochs", type=_positive_int, metavar="N",
                        help="number of epochs of train_size / batch_size iterations")
    p.add_argument("--sampling", choices=SAMPLINGS,
                   help="replacement: the book's random batches; shuffle: every sample once per epoch")
    p.add_argument("--lr-schedule", choices=LR_SCHEDULES)
    p.add_argument("--dtype", choices=DTYPES,
                   help="float32 (default) is faster; float64 with --grad numerical")
    p.add_argument("--grad", choices=GRADS,
                   help="gradient by backpropagation (default) or by the chapter's numerical differentiation")
    p.add_argument("--engine", choices=engines.engine_names(),
                   help="how the gradient is computed: fused (default) or reference for backprop; "
                        "fast (default), rows or loop for --grad numerical")
    p.add_argument("--weight-decay", type=_weight_decay, metavar="LAMBDA",
                   help="the book's weight decay: lambda/2 * sum ||W||^2 added to the loss (biases excluded)")
    p.add_argument("--dropout", type=_dropout, metavar="RATE",
                   help="the book's Dropout after each hidden activation: drop this share of units while training")
    p.add_argument("--validation", type=_validation, metavar="SHARE",
                   help="hold back the last SHARE (e.g. 0.1) or N samples of the training set and judge each epoch "
                        "on them; the test set is then judged once, at the end")
    p.add_argument("--seed", type=_nonnegative_int, default=None, help="seed of weights and batches (default 0)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", help="run directory (default runs/RECIPE-DATE-TIME)")
    where.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its checkpoint")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: when the terminal shows it)")
    p.add_argument("--trajectory", action=argparse.BooleanOptionalAction, default=True,
                   help="keep the weights of every epoch end in trajectory.npz, for `nnlearn landscape` (default: yes)")
    p.set_defaults(func=cmd_train, parser=p)

    p = commands.add_parser(
        "evaluate", help="test accuracy and confusion matrix of a trained run",
        description="Evaluate a run directory's model on the test data: accuracy, the confusion matrix "
        "(printed and as confusion.png) and the most confused pairs.",
    )
    p.add_argument("run_dir", metavar="DIR")
    add_data_args(p, dataset=False)
    p.add_argument("--out", metavar="PNG", help="where to write the confusion matrix (default DIR/confusion.png)")
    p.set_defaults(func=cmd_evaluate, parser=p)

    p = commands.add_parser(
        "predict", help="classify an image (or a test image) with a trained run",
        description="Print the predicted class and the ten probabilities. An image file is converted to "
        "the training format: 28x28 grey, white digit on black (inverted when the background is light), "
        "the digit scaled into a 20x20 box and centred as in MNIST.",
    )
    p.add_argument("run_dir", metavar="DIR")
    p.add_argument("image", nargs="?", metavar="IMAGE", help="an image file (PNG, JPEG, ...)")
    p.add_argument("--index", type=_nonnegative_int, metavar="N", help="use image N of the data set instead")
    p.add_argument("--split", choices=("train", "test"), default="test", help="with --index (default test)")
    add_data_args(p, dataset=False)
    p.set_defaults(func=cmd_predict, parser=p)

    p = commands.add_parser(
        "gradcheck", help="compare backpropagation with the numerical gradient",
        description="Compute the gradient of a network's loss on a small batch both ways -- backpropagation "
        "and the chapter's numerical gradient -- and print, per parameter, the largest absolute and the "
        "relative difference. float64; by default the book's check: TwoLayerNet(784, 50, 10), MNIST train[:3].",
    )
    add_data_args(p)
    p.add_argument("--synthetic", action="store_true", help="random inputs instead of a data set (no files needed)")
    p.add_argument("--hidden", type=_positive_int, nargs="+", default=[50], metavar="N")
    p.add_argument("--activation", choices=tuple(ACTIVATIONS), default="sigmoid")
    p.add_argument("--init", type=_init, default=0.01, metavar="STD")
    p.add_argument("--loss", choices=tuple(LOSSES), default="cross_entropy")
    p.add_argument("--batch-size", type=_positive_int, default=3, metavar="N")
    p.add_argument("--seed", type=_nonnegative_int, default=0)
    p.add_argument("--all", action="store_true",
                   help="check every parameter (numerical gradient by the fast engine) instead of a sample")
    p.add_argument("--sample", type=_positive_int, default=100, metavar="N",
                   help="without --all: elements checked per parameter, each by the plain loop (default 100)")
    p.add_argument("--engine", choices=engines.engine_names(engines.NUMERICAL), default="fast",
                   help="with --all: how the numerical gradient is computed: fast (default), rows, or loop "
                        "(the book's plain loop)")
    p.set_defaults(func=cmd_gradcheck, parser=p)

    p = demos.add_parser(
        "numgrad", help="why backpropagation: the numerical gradient's loop, the fast engine and backprop timed",
        description="On one real batch of 100 images, compute TwoLayerNet(784, 50, 10)'s gradient three ways -- "
        "the book's plain loop of central differences (on a sample of elements, time extrapolated), the fast "
        "engine that gives the loop's numbers, and backpropagation -- and print their times and agreement.",
    )
    add_data_args(p)
    p.add_argument("--sample", type=_positive_int, default=1000, metavar="N",
                   help="elements of each parameter the plain loop computes (default 1000)")
    p.set_defaults(func=cmd_numgrad, parser=p)

    p = demos.add_parser(
        "overfit", help="overfitting and its remedies: a deep net on 300 samples, plain, with weight decay, with dropout",
        description="Train a 7-layer ReLU network (6 x 100 hidden) on only --train-size training samples "
        "with SGD: training accuracy climbs to 100% while test accuracy stalls far below -- overfitting. "
        "Then the same network and data with the book's weight decay (lambda 0.1) and with its Dropout "
        "(ratio 0.2): the gap between train and test accuracy narrows. One figure, three panels.",
    )
    add_data_args(p)
    p.add_argument("--train-size", type=_positive_int, default=300, metavar="N")
    p.add_argument("--test-size", type=_positive_int, default=None, metavar="N",
                   help="judge on the first N test images only (default: all; fewer is faster)")
    p.add_argument("--epochs", type=_positive_int, default=200, metavar="N")
    p.add_argument("--weight-decay", type=_weight_decay, default=0.1, metavar="LAMBDA",
                   help="lambda of the weight-decay run (default 0.1, the book's)")
    p.add_argument("--dropout", type=_dropout, default=0.2, metavar="RATE",
                   help="ratio of the dropout run (default 0.2, the book's)")
    p.add_argument("--seed", type=_nonnegative_int, default=0)
    p.add_argument("--out", metavar="DIR", default="nnlearn-demo", help="folder for overfit.png (default nnlearn-demo)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    p.set_defaults(func=cmd_overfit, parser=p)


# -- helpers --------------------------------------------------------------------------------------


def _check_dataset(args) -> str:
    return args.dataset or "mnist"  # argparse checked the choice (add_data_args)


def _load(name: str, data_dir):
    from nnlearn import datasets

    return datasets.load_dataset(name, normalize=True, flatten=True, data_dir=data_dir)


def _class_names(name: str):
    from nnlearn.datasets import class_names

    try:
        return list(class_names(name))
    except KeyError:  # a data set without names: plain numbers
        return None


# -- nnlearn train ---------------------------------------------------------------------------------


def cmd_train(args) -> int:
    from nnlearn import runs
    from nnlearn.callbacks import standard_callbacks
    from nnlearn.settings import TrainSettings, recipe_settings
    from nnlearn.trainer import TrainingInterrupted, build_trainer
    from nnlearn.trajectory import TRAJECTORY_FILE, Trajectory

    parser = args.parser
    fresh_start = False
    if args.resume:
        given = [flag for key, flag in _FLAGS.items() if getattr(args, _attr(key)) is not None]
        given += [flag for flag in ("--recipe", "--dataset", "--seed") if getattr(args, flag[2:]) is not None]
        if given:
            parser.error(f"--resume continues a run with the settings it was started with; drop {', '.join(given)}")
        run = Path(args.resume)
        config = runs.read_config(run)
        settings = TrainSettings.from_dict(config["settings"] | {"seed": config.get("seed", 0)})
        recipe, dataset = config["recipe"], config["dataset"]
        data_dir = args.data_dir or config.get("data_dir")
        # Killed before its first checkpoint: nothing to continue, so the run starts again.
        fresh_start = not (run / "checkpoint.npz").exists()
    else:
        recipe = args.recipe or "book"
        dataset = _check_dataset(args)
        overrides = {key: getattr(args, _attr(key)) for key in _FLAGS}
        if args.grad == "numerical" and args.dtype == "float32":
            parser.error("--grad numerical computes in float64 (float32 rounds the step h=1e-4); drop --dtype float32")
        settings = recipe_settings(recipe, **overrides, seed=args.seed)
        run = Path(args.out) if args.out else runs.default_run_dir(recipe)
        if (run / "config.json").exists() or (run / "checkpoint.npz").exists():
            parser.error(f"{run} already holds a training run; continue it with --resume {run} or choose another --out")
        data_dir = args.data_dir

    t0 = time.perf_counter()
    (x_train, t_train), (x_test, t_test) = _load(dataset, data_dir)
    load_seconds = time.perf_counter() - t0
    runs.make_run_dir(run)  # after the data: a run that cannot start leaves no folder behind
    n_classes = len(_class_names(dataset) or []) or None
    trainer = build_trainer(
        settings, x_train, t_train, x_test, t_test, n_classes=n_classes,
        callbacks=[*standard_callbacks(args.progress, checkpoint=run / "checkpoint.npz"), runs.RunWriter(run),
                   *([Trajectory(run / TRAJECTORY_FILE)] if args.trajectory else [])],
    )
    description = settings.describe(trainer.network.sizes[0], trainer.network.sizes[-1])
    if args.resume and not fresh_start:
        trainer.load_checkpoint(run / "checkpoint.npz")
        if trainer.iteration >= trainer.max_iter and (run / "summary.json").exists():
            print(f"{run} has finished ({trainer.iteration} iterations); nothing to resume -- "
                  f"see its summary.json, or judge it with: nnlearn evaluate {run}")
            return 0
        print(f"resuming {run} at iteration {trainer.iteration} of {trainer.max_iter}: {description}")
    else:
        if fresh_start:
            print(f"{run} was stopped before its first checkpoint; starting it again from the beginning "
                  "with its saved settings")
        runs.start_run(run, trainer, recipe=recipe, dataset=dataset, data_dir=data_dir)
        print(f"training ({recipe} recipe): {description}")
        held = "" if trainer.x_val is None else (
            f" ({len(trainer.x_val)} of them, the last, held back for validation; the test images are judged "
            "once, at the end)")
        print(f"data: {dataset}, {len(x_train)} training{held} and {len(x_test)} test images "
              f"({load_seconds:.1f} s to load); run directory {run}")
    start_iteration = trainer.iteration
    try:
        summary = runs.finish_run(run, trainer, recipe=recipe, dataset=dataset, load_seconds=load_seconds)
    except TrainingInterrupted as exc:
        print(f"nnlearn: interrupted; checkpoint at iteration {exc.iteration} of {trainer.max_iter} saved in "
              f"{run / 'checkpoint.npz'}; continue with: nnlearn train --resume {run}", file=sys.stderr)
        return 130
    val = "" if summary["validation_accuracy"] is None else f"validation accuracy {summary['validation_accuracy']:.2%}, "
    print(f"train accuracy {summary['train_accuracy']:.2%}, {val}test accuracy {summary['test_accuracy']:.2%} after "
          f"{summary['iterations']} iterations ({summary['epochs']:.1f} epochs, {summary['iterations'] - start_iteration} "
          f"in this session) in {summary['seconds']:.1f} s of training")
    print(f"test accuracy {summary['test_accuracy']:.2%} -- run directory {run}")
    return 0


# -- nnlearn evaluate ------------------------------------------------------------------------------


def cmd_evaluate(args) -> int:
    from nnlearn import runs
    from nnlearn.evaluation import confusion_matrix, format_confusion, most_confused, plot_confusion
    from nnlearn.plots import save_figure

    run = Path(args.run_dir)
    config, net = runs.load_model(run)
    dataset = config["dataset"]
    _, (x_test, t_test) = _load(dataset, args.data_dir or config.get("data_dir"))
    pred = net.classify(x_test)
    n_classes = net.sizes[-1]
    matrix = confusion_matrix(t_test, pred, n_classes)
    correct = int(matrix.trace())
    acc = correct / len(t_test)
    names = _class_names(dataset)
    print(f"model: {run} ({'-'.join(map(str, net.sizes))} {net.activation}, {dataset})")
    print(f"test accuracy {acc:.2%} ({correct} of {len(t_test)})")
    print("confusion matrix (rows: true class, columns: predicted class):")
    print(format_confusion(matrix, None if names is None or dataset == "mnist" else range(n_classes)))
    pairs = most_confused(matrix, k=5)
    label = (lambda k: f"{k} ({names[k]})") if names and dataset != "mnist" else str
    if pairs:
        print("most confused: " + ", ".join(f"{label(i)} -> {label(j)} ({n}x)" for i, j, n in pairs))
    out = Path(args.out) if args.out else run / "confusion.png"
    # The default is the run's own figure; a path the user names must lie outside run folders.
    save_figure(plot_confusion(matrix, names, title=f"Confusion matrix, {dataset} test data ({acc:.2%} correct)"), out,
                in_run_folder=not args.out)
    print(f"test accuracy {acc:.2%} -- confusion matrix in {out}")
    return 0


# -- nnlearn predict -------------------------------------------------------------------------------


def cmd_predict(args) -> int:
    import numpy as np

    from nnlearn import runs

    parser = args.parser
    if (args.image is None) == (args.index is None):
        parser.error("give an IMAGE file or --index N (not both)")
    run = Path(args.run_dir)
    config, net = runs.load_model(run)
    dataset = config["dataset"]
    names = _class_names(dataset)
    true = None
    side = int(round(math.sqrt(net.sizes[0])))
    if args.index is not None:
        (x_train, t_train), (x_test, t_test) = _load(dataset, args.data_dir or config.get("data_dir"))
        x_all, t_all = (x_test, t_test) if args.split == "test" else (x_train, t_train)
        if args.index >= len(x_all):
            parser.error(f"argument --index: {args.index} is out of range; the {args.split} set has "
                         f"{len(x_all)} images (0..{len(x_all) - 1})")
        x, true = x_all[args.index], int(t_all[args.index])
        name = f" {names[true]}" if names and dataset != "mnist" else ""
        print(f"image {args.index} of the {dataset} {args.split} set (true class {true}{name})")
    else:
        if side * side != net.sizes[0]:
            raise NnlearnError(f"this model takes {net.sizes[0]} inputs, not a square image; use --index")
        from nnlearn.images import image_to_input

        x, inverted = image_to_input(args.image, side)
        print(f"image {args.image}: converted to {side}x{side} grey, white on black"
              f"{' (inverted: the background was light)' if inverted else ''}")
    probs = net.predict(np.asarray(x, dtype=np.float64).reshape(-1))
    best = int(np.argmax(probs))
    print("class probabilities:")
    named = bool(names) and dataset != "mnist"
    for k, p in enumerate(probs):
        name = f" {names[k]:<12}" if named else ""
        print(f"  {k}{name}  {p:.4f}{'  <- predicted' if k == best else ''}")
    verdict = "" if true is None else ("  (correct)" if best == true else f"  (wrong: it is {true})")
    label = f"{best} ({names[best]})" if names and dataset != "mnist" else str(best)
    print(f"predicted class {label} with probability {probs[best]:.2%}{verdict}")
    return 0


# -- nnlearn gradcheck -----------------------------------------------------------------------------


def cmd_gradcheck(args) -> int:
    import numpy as np

    from nnlearn import MultiLayerNet, TwoLayerNet, gradient_check

    rng = np.random.default_rng(args.seed)
    if args.synthetic:
        n_in, n_out = 784, 10
        x = rng.random((args.batch_size, n_in))
        t = rng.integers(0, n_out, args.batch_size)
        source = f"{args.batch_size} random inputs"
    else:
        dataset = _check_dataset(args)
        (x_train, t_train), _ = _load(dataset, args.data_dir)
        if args.batch_size > len(x_train):
            args.parser.error(f"argument --batch-size: the data set has only {len(x_train)} training images")
        x, t = x_train[: args.batch_size].astype(np.float64), t_train[: args.batch_size]
        n_in, n_out = x.shape[1], int(max(int(np.max(t_train)) + 1, 10))
        source = f"{dataset} train[:{args.batch_size}]"
    if len(args.hidden) == 1 and args.activation == "sigmoid" and args.loss == "cross_entropy":
        net = TwoLayerNet(n_in, args.hidden[0], n_out, weight_init_std=args.init, seed=args.seed)
    else:
        net = MultiLayerNet(n_in, args.hidden, n_out, activation=args.activation, weight_init_std=args.init,
                            loss=args.loss, seed=args.seed)
    n_params = sum(p.size for p in net.params.values())
    print(f"gradient check: {type(net).__name__} {'-'.join(map(str, net.sizes))} {net.activation}, "
          f"{args.loss}, init {args.init}, on {source}; float64")
    if args.all:
        how = f"the {args.engine} engine" + (", 2 forward passes each" if args.engine == "loop" else "")
        print(f"numerical gradient: central differences (h=1e-4) for all {n_params} parameters, by {how} ...")
    else:
        print(f"numerical gradient: central differences (h=1e-4) for up to {args.sample} random elements of each "
              "parameter, 2 forward passes each (--all checks every parameter) ...")
    t0 = time.perf_counter()
    report = gradient_check(net, x, t, engine=args.engine, sample=None if args.all else args.sample, seed=args.seed)
    seconds = time.perf_counter() - t0
    print(f"{'param':<6} {'shape':<12} {'checked':>8} {'max |backprop - numerical|':>27} {'relative':>10}")
    for key, r in report.items():
        print(f"{key:<6} {str(net.params[key].shape):<12} {r['checked']:>8} {r['max_abs']:>27.3e} "
              f"{r['relative']:>10.3e}")
    worst = max(r["relative"] for r in report.values())
    if net.activation == "relu":
        # Pre-activations within h of 0: the numerical gradient straddles the kink there.
        h = x
        near = 0
        for i in range(1, net.n_affine):
            a = h @ net.params[f"W{i}"] + net.params[f"b{i}"]
            near += int(np.count_nonzero(np.abs(a) < 1e-3))
            h = np.maximum(a, 0)
        if near:
            print(f"note: {near} ReLU inputs lie within 1e-3 of the kink at 0; the numerical gradient is "
                  "unreliable there (a larger --init avoids it)")
    ok = worst <= 1e-6
    verdict = "agree" if ok else "DISAGREE"
    print(f"backpropagation and the numerical gradient {verdict}: largest relative difference {worst:.2e} "
          f"(limit 1e-6), {seconds:.1f} s")
    return 0 if ok else 1


# -- nnlearn demo overfit ---------------------------------------------------------------------------


def cmd_overfit(args) -> int:
    import numpy as np

    from nnlearn.evaluation import plot_accuracy_panels
    from nnlearn.overfitting import compare_remedies, overfitting_settings
    from nnlearn.plots import save_figure

    dataset = _check_dataset(args)
    (x_train, t_train), (x_test, t_test) = _load(dataset, args.data_dir)
    if args.train_size > len(x_train):
        args.parser.error(f"argument --train-size: the data set has only {len(x_train)} training images")
    if args.test_size is not None:
        if args.test_size > len(x_test):
            args.parser.error(f"argument --test-size: the data set has only {len(x_test)} test images")
        x_test, t_test = x_test[: args.test_size], t_test[: args.test_size]
    base = overfitting_settings(args.train_size, args.epochs, args.seed)
    print(f"overfitting: a {'-'.join(map(str, [x_train.shape[1], *base.hidden, int(np.max(t_train)) + 1]))} ReLU "
          f"network, SGD lr 0.01, trained on only {args.train_size} {dataset} images for {args.epochs} epochs, "
          f"judged on {len(x_test)} test images -- plain, with weight decay, with dropout")
    curves = compare_remedies(x_train, t_train, x_test, t_test, train_size=args.train_size, epochs=args.epochs,
                              weight_decay=args.weight_decay, dropout=args.dropout, seed=args.seed,
                              progress=args.progress)
    gaps = {}
    for name, (_, train_acc, test_acc) in curves.items():
        gaps[name] = train_acc[-1] - test_acc[-1]
        print(f"{name:<18} train accuracy {train_acc[-1]:7.2%}, test accuracy {test_acc[-1]:7.2%}: "
              f"a gap of {gaps[name]:6.1%}")
    png = save_figure(plot_accuracy_panels(curves, title=f"Overfitting on {args.train_size} training samples, "
                                                         "and two remedies"), Path(args.out) / "overfit.png")
    print("Plain, the network memorises its few samples instead of learning what generalises; weight decay "
          "(large weights cost loss) and dropout (no unit can be relied on) narrow the gap between train and test. "
          "Dropout also learns more slowly: the book trains its dropout network for 301 epochs (--epochs 301).")
    print("gaps: " + ", ".join(f"{name} {gap:.1%}" for name, gap in gaps.items()))
    print(f"figure: {png}")
    return 0


# -- nnlearn demo numgrad ---------------------------------------------------------------------------


def cmd_numgrad(args) -> int:
    import numpy as np

    from nnlearn import TwoLayerNet
    from nnlearn.gradient_check import time_gradients

    dataset = _check_dataset(args)
    (x_train, t_train), _ = _load(dataset, args.data_dir)
    batch = np.random.default_rng(0).choice(len(x_train), 100)
    net = TwoLayerNet(x_train.shape[1], 50, int(np.max(t_train)) + 1, seed=0)
    n_params = sum(p.size for p in net.params.values())
    print(f"the gradient of TwoLayerNet({x_train.shape[1]}, 50, {net.sizes[-1]}) -- {n_params} parameters -- on a "
          f"batch of 100 {dataset} training images, float64")
    rows = time_gradients(net, x_train[batch].astype(np.float64), t_train[batch], loop_sample=args.sample)
    names = {"loop": "numerical, the book's loop", "fast": "numerical, fast engine", "backprop": "backpropagation"}
    print(f"{'method':<28} {'seconds':>10} {'vs the loop':>12} {'max |difference| from the loop':>31}")
    for r in rows:
        print(f"{names[r['method']]:<28} {r['seconds']:>10.4f} {r['speedup']:>11.0f}x {r['max_abs_diff']:>31.1e}")
    print(f"(the loop's time is for {args.sample} elements of each parameter, extrapolated to all {n_params})")
    print("The loop perturbs one weight at a time and runs the whole network twice for each: 2 x "
          f"{n_params} forward passes. Backpropagation gets the exact gradient from one forward and one backward pass.")
    print("The fast engine computes the loop's very central differences without those passes: perturbing one "
          "weight moves one pre-activation, so it expands each sample's loss as a Taylor series in that "
          "pre-activation (to the 5th power) and sums the terms with a few matrix products.")
    return 0
