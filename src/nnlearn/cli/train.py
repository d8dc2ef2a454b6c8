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
from nnlearn.cli._settings import add_settings_flags, flag_of, settings_given
from nnlearn.errors import InputError, NnlearnError
from nnlearn.multi_layer_net import ACTIVATIONS, INITS, LOSSES
from nnlearn.settings import RECIPES

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
    add_settings_flags(p)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", help="run directory (default runs/RECIPE-DATE-TIME)")
    where.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its checkpoint")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: when the terminal shows it)")
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
        "relative difference. float64; by default the book's check: TwoLayerNet(784, 50, 10), MNIST train[:3]. "
        "Given a run folder, the run's trained network is checked on its data set and the result saved as "
        "RUN/gradcheck.json, which `nnlearn report` shows.",
    )
    p.add_argument("run_dir", nargs="?", metavar="RUN", help="check this run's trained network (default: a new one)")
    add_data_args(p)
    p.add_argument("--synthetic", action="store_true", help="random inputs instead of a data set (no files needed)")
    add_settings_flags(p, only=GRADCHECK_SETTINGS, default="the book's TwoLayerNet(784, 50, 10); batch 3")
    p.set_defaults(batch_size=3)
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
    from nnlearn.trainer import TrainingInterrupted

    run, settings, recipe, dataset, data_dir = _run_settings(args)
    t0 = time.perf_counter()
    data = _load(dataset, data_dir)
    load_seconds = time.perf_counter() - t0
    n_classes = len(_class_names(dataset) or []) or None
    opened = runs.open_run(run, settings, data, recipe=recipe, dataset=dataset, data_dir=data_dir,
                           n_classes=n_classes, progress=args.progress)
    trainer = opened.trainer
    if opened.how == "finished":
        print(f"{run} has finished ({trainer.iteration} iterations); nothing to resume -- "
              f"see its summary.json, or judge it with: nnlearn evaluate {run}")
        return 0
    _say_what_trains(opened, data, load_seconds)
    start_iteration = trainer.iteration
    try:
        summary = opened.finish(load_seconds)
    except TrainingInterrupted as exc:
        print(f"nnlearn: interrupted; checkpoint at iteration {exc.iteration} of {trainer.max_iter} saved in "
              f"{run / 'checkpoint.npz'}; {runs.resume_hint(run)}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"nnlearn: interrupted while writing the run's final files; {runs.resume_hint(run)}", file=sys.stderr)
        return 130
    val = "" if summary["validation_accuracy"] is None else f"validation accuracy {summary['validation_accuracy']:.2%}, "
    print(f"train accuracy {summary['train_accuracy']:.2%}, {val}test accuracy {summary['test_accuracy']:.2%} after "
          f"{summary['iterations']} iterations ({summary['epochs']:.1f} epochs, {summary['iterations'] - start_iteration} "
          f"in this session) in {summary['seconds']:.1f} s of training")
    print(f"test accuracy {summary['test_accuracy']:.2%} -- run directory {run}")
    return 0


def _run_settings(args):
    """``(run folder, settings, recipe, dataset, data folder)`` of ``nnlearn train``'s arguments."""
    from nnlearn import runs
    from nnlearn.settings import TrainSettings, recipe_settings

    parser = args.parser
    overrides = settings_given(args)
    if args.resume:
        given = [flag_of(name) for name in overrides]
        given += [flag for flag in ("--recipe", "--dataset") if getattr(args, flag[2:]) is not None]
        if given:
            parser.error(f"--resume continues a run with the settings it was started with; drop {', '.join(given)}")
        run = Path(args.resume)
        config = runs.read_config(run)
        settings = TrainSettings.from_dict(config["settings"] | {"seed": config.get("seed", 0)})
        return run, settings, config["recipe"], config["dataset"], args.data_dir or config.get("data_dir")
    recipe = args.recipe or "book"
    try:
        settings = recipe_settings(recipe, **overrides)
    except InputError as exc:  # flags that do not go together: a usage error, like a bad flag
        parser.error(str(exc))
    run = Path(args.out) if args.out else runs.default_run_dir(recipe)
    if (run / "config.json").exists() or (run / "checkpoint.npz").exists():
        parser.error(f"{run} already holds a training run; continue it with --resume {run} or choose another --out")
    return run, settings, recipe, _check_dataset(args), args.data_dir


def _say_what_trains(opened, data, load_seconds: float) -> None:
    trainer, run = opened.trainer, opened.path
    description = trainer.settings.describe(trainer.network.sizes[0], trainer.network.sizes[-1])
    if opened.how == "resumed":
        print(f"resuming {run} at iteration {trainer.iteration} of {trainer.max_iter}: {description}")
        return
    if opened.how == "restarted":
        print(f"{run} was stopped before its first checkpoint; starting it again from the beginning "
              "with its saved settings")
    (x_train, _), (x_test, _) = data
    print(f"training ({opened.recipe} recipe): {description}")
    held = "" if trainer.x_val is None else (
        f" ({len(trainer.x_val)} of them, the last, held back for validation; the test images are judged "
        "once, at the end)")
    print(f"data: {opened.dataset}, {len(x_train)} training{held} and {len(x_test)} test images "
          f"({load_seconds:.1f} s to load); run directory {run}")


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


#: The settings ``nnlearn gradcheck`` takes: the network's and the batch's.
GRADCHECK_SETTINGS = ("hidden", "activation", "weight_init_std", "loss", "batch_size", "seed")


def cmd_gradcheck(args) -> int:
    from nnlearn.gradient_check import gradient_check_record

    net, x, t, source, run = _gradcheck_subject(args)
    n_params = sum(p.size for p in net.params.values())
    print(f"gradient check: {type(net).__name__} {'-'.join(map(str, net.sizes))} {net.activation}, "
          f"{net.loss_type}, init {net.config()['weight_init_std']}, on {source}; float64")
    if args.all:
        engine = args.engine
        how = f"the {engine} engine" + (", 2 forward passes each" if engine == "loop" else "")
        print(f"numerical gradient: central differences (h=1e-4) for all {n_params} parameters, by {how} ...")
    else:
        print(f"numerical gradient: central differences (h=1e-4) for up to {args.sample} random elements of each "
              "parameter, 2 forward passes each (--all checks every parameter) ...")
    t0 = time.perf_counter()
    record = gradient_check_record(net, x, t, engine=args.engine, sample=None if args.all else args.sample,
                                   seed=args.seed or 0, batch=source)
    seconds = time.perf_counter() - t0
    print(f"{'param':<6} {'shape':<12} {'checked':>8} {'max |backprop - numerical|':>27} {'relative':>10}")
    for key, r in record["params"].items():
        print(f"{key:<6} {str(tuple(r['shape'])):<12} {r['checked']:>8} {r['max_abs']:>27.3e} {r['relative']:>10.3e}")
    if record["kinks"]:
        print(f"note: {record['kinks']} ReLU inputs lie within 1e-3 of the kink at 0; the numerical gradient is "
              "unreliable there (a larger --init avoids it)")
    verdict = "agree" if record["agree"] else "DISAGREE"
    print(f"backpropagation and the numerical gradient {verdict}: largest relative difference {record['worst']:.2e} "
          f"(limit {record['limit']:g}), {seconds:.1f} s")
    if run is not None:
        from nnlearn.runs import write_json

        write_json(run / "gradcheck.json", record)
        print(f"saved in {run / 'gradcheck.json'} (`nnlearn report {run}` shows it)")
    return 0 if record["agree"] else 1


def _gradcheck_subject(args):
    """``(float64 network, x, t, where the batch comes from, run folder or None)`` of gradcheck's arguments."""
    import numpy as np

    from nnlearn.networks import network_for, with_dtype
    from nnlearn.settings import TrainSettings

    given = settings_given(args, only=GRADCHECK_SETTINGS)
    run = None if args.run_dir is None else Path(args.run_dir)
    if run is not None:
        from nnlearn import runs

        extra = [flag_of(name) for name in given if name not in ("batch_size", "seed")]
        if extra or args.synthetic:
            args.parser.error(f"a run's own network is checked; drop {', '.join(extra or ['--synthetic'])}")
        config, net = runs.load_model(run)
        net = with_dtype(net, np.float64)
        dataset, data_dir = config["dataset"], args.data_dir or config.get("data_dir")
    else:
        settings = TrainSettings(**given, dtype="float64")
        dataset, data_dir = _check_dataset(args), args.data_dir
    rng = np.random.default_rng(args.seed or 0)
    n = args.batch_size
    if args.synthetic:
        x, t = rng.random((n, 784)), rng.integers(0, 10, n)
        source = f"{n} random inputs"
    else:
        (x_train, t_train), _ = _load(dataset, data_dir)
        if n > len(x_train):
            args.parser.error(f"argument --batch-size: the data set has only {len(x_train)} training images")
        x, t = x_train[:n].astype(np.float64), t_train[:n]
        source = f"{dataset} train[:{n}]"
    if run is None:
        net = network_for(settings, x.shape[1], 10)
    return net, x, t, source, run


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
