"""``nnlearn train``, ``evaluate`` and ``predict``.

Each command parses its arguments, calls the library (:mod:`nnlearn.train.runs` for run directories) and
prints; the run directory's files are described in :mod:`nnlearn.train.runs`.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from nnlearn.base.errors import InputError, NnlearnError
from nnlearn.base.figtext import figure_text
from nnlearn.base.i18n import _
from nnlearn.cli._args import (
    THREADS_HELP,
    add_data_args,
    add_threads_arg,
    class_names_of,
    dataset_of,
    int_at_least,
    load_arrays,
    say_threads,
)
from nnlearn.cli._settings import add_declared_flags, flag_of, given_flags
from nnlearn.train.settings import RECIPES, TrainSettings

# -- argument types: a bad value is an argparse error (usage line, exit 2), never a traceback --------


_positive_int = int_at_least(1)
_nonnegative_int = int_at_least(0)


def register(commands) -> None:
    _register_train(commands)
    _register_evaluate(commands)
    _register_predict(commands)


def _register_train(commands) -> None:
    p = commands.add_parser(
        "train",
        help="train a network on MNIST (the book's recipe by default) and judge it on test data",
        description="Train a network by mini-batch gradient descent; write a run directory with the "
        "metrics, figures, model and checkpoint. Defaults are the book's recipe: 784-50-10 sigmoid, "
        "std 0.01, SGD lr 0.1, batch 100, 10000 iterations. Ctrl-C saves a checkpoint; --resume continues.",
    )
    p.add_argument(
        "--recipe",
        choices=tuple(RECIPES),
        default=None,
        help="named settings: book (default; ch. 4: 94.61%% with seed 0, in seconds) or strong "
        "(784-512-256-10 ReLU, He init, Adam with cosine decay, 8 epochs, float32: 98.4%% with "
        "seed 0, in about half a minute on 2 cores)",
    )
    add_data_args(p)
    add_declared_flags(p, TrainSettings, default="the recipe's")
    add_threads_arg(p, THREADS_HELP)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", help="run directory (default runs/RECIPE-DATE-TIME)")
    where.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its checkpoint")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: when the terminal shows it)",
    )
    p.add_argument(
        "--trajectory",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep the weights of every epoch end in trajectory.npz, for `nnlearn landscape` (default: yes)",
    )
    p.set_defaults(func=cmd_train, parser=p)


def _register_evaluate(commands) -> None:
    p = commands.add_parser(
        "evaluate",
        help="test accuracy and confusion matrix of a trained run",
        description="Evaluate a run directory's model on the test data: accuracy, the confusion matrix "
        "(printed and as confusion.png) and the most confused pairs.",
    )
    p.add_argument("run_dir", metavar="DIR")
    add_data_args(p, dataset=False)
    p.add_argument("--out", metavar="PNG", help="where to write the confusion matrix (default DIR/confusion.png)")
    add_threads_arg(p)
    p.set_defaults(func=cmd_evaluate, parser=p)


def _register_predict(commands) -> None:
    p = commands.add_parser(
        "predict",
        help="classify an image (or a test image) with a trained run",
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


# -- nnlearn train ---------------------------------------------------------------------------------


def cmd_train(args) -> int:
    from nnlearn.datasets import data_folder
    from nnlearn.train import runs
    from nnlearn.train.trainer import TrainingInterrupted

    run, settings, recipe, dataset, data_dir = _run_settings(args)
    t0 = time.perf_counter()
    data = load_arrays(dataset, data_dir)
    load_seconds = time.perf_counter() - t0
    n_classes = len(class_names_of(dataset) or []) or None
    # The folder the files were read from is recorded (given, or found through NNLEARN_DATA or the
    # cache): a --resume in another shell reads the same files.
    opened = runs.open_run(
        run,
        settings,
        data,
        recipe=recipe,
        dataset=dataset,
        data_dir=data_folder(dataset, data_dir) or data_dir,
        n_classes=n_classes,
        progress=args.progress,
        threads=args.threads,
        trajectory=args.trajectory,
    )
    trainer = opened.trainer
    if opened.how == "finished":
        print(
            _(
                "{run} has finished ({n} iterations); nothing to resume -- see its summary.json, or judge it with: "
                "nnlearn evaluate {run}",
                run=run,
                n=trainer.iteration,
            )
        )
        return 0
    _say_what_trains(opened, data, load_seconds)
    start_iteration = trainer.iteration
    try:
        summary = opened.finish(load_seconds)
    except TrainingInterrupted as exc:
        print(
            "nnlearn: "
            + _(
                "interrupted; checkpoint at iteration {i} of {n} saved in {path}; {hint}",
                i=exc.iteration,
                n=trainer.max_iter,
                path=run / "checkpoint.npz",
                hint=runs.resume_hint(run),
            ),
            file=sys.stderr,
        )
        return 130
    except KeyboardInterrupt:
        print(
            "nnlearn: " + _("interrupted while writing the run's final files; {hint}", hint=runs.resume_hint(run)),
            file=sys.stderr,
        )
        return 130
    val = (
        ""
        if summary["validation_accuracy"] is None
        else _("validation accuracy {accuracy:.2%}, ", accuracy=summary["validation_accuracy"])
    )
    print(
        _(
            "train accuracy {train:.2%}, {val}test accuracy {test:.2%} after {iterations} iterations ({epochs:.1f} "
            "epochs, {session} in this session) in {seconds:.1f} s of training",
            train=summary["train_accuracy"],
            val=val,
            test=summary["test_accuracy"],
            iterations=summary["iterations"],
            epochs=summary["epochs"],
            session=summary["iterations"] - start_iteration,
            seconds=summary["seconds"],
        )
    )
    print(_("test accuracy {accuracy:.2%} -- run directory {run}", accuracy=summary["test_accuracy"], run=run))
    return 0


def _run_settings(args):
    """``(run folder, settings, recipe, dataset, data folder)`` of ``nnlearn train``'s arguments."""
    from nnlearn.train import runs
    from nnlearn.train.settings import recipe_settings

    parser = args.parser
    overrides = given_flags(args, TrainSettings)
    if args.resume:
        given = [flag_of(name) for name in overrides]
        given += [flag for flag in ("--recipe", "--dataset") if getattr(args, flag[2:]) is not None]
        if given:
            parser.error(
                _(
                    "--resume continues a run with the settings it was started with; drop {flags}",
                    flags=", ".join(given),
                )
            )
        return (Path(args.resume), *runs.run_to_resume(args.resume, args.data_dir))
    recipe = args.recipe or "book"
    try:  # flags that do not go together, or a folder that holds a run already: usage errors, like a bad flag
        settings = recipe_settings(recipe, **overrides)
        run = runs.new_run_dir(args.out, recipe)
    except InputError as exc:
        parser.error(str(exc))
    return run, settings, recipe, dataset_of(args), args.data_dir


def _say_what_trains(opened, data, load_seconds: float) -> None:
    trainer, run = opened.trainer, opened.path
    description = trainer.description
    say_threads(trainer.choose_threads())
    if opened.how == "resumed":
        print(
            _(
                "resuming {run} at iteration {i} of {n}: {description}",
                run=run,
                i=trainer.iteration,
                n=trainer.max_iter,
                description=description,
            )
        )
        return
    if opened.how == "restarted":
        print(
            _(
                "{run} was stopped before its first checkpoint; starting it again from the beginning with its saved "
                "settings",
                run=run,
            )
        )
    (x_train, _t_train), (x_test, _t_test) = data
    print(_("training ({recipe} recipe): {description}", recipe=opened.recipe, description=description))
    held = (
        ""
        if trainer.x_val is None
        else _(
            " ({n} of them, the last, held back for validation; the test images are judged once, at the end)",
            n=len(trainer.x_val),
        )
    )
    print(
        _(
            "data: {dataset}, {train} training{held} and {test} test images ({seconds:.1f} s to load); run "
            "directory {run}",
            dataset=opened.dataset,
            train=len(x_train),
            held=held,
            test=len(x_test),
            seconds=load_seconds,
            run=run,
        )
    )


# -- nnlearn evaluate ------------------------------------------------------------------------------


def cmd_evaluate(args) -> int:
    from nnlearn.base.files import check_output_path
    from nnlearn.common.evaluation import confusion_matrix, format_confusion, most_confused, plot_confusion
    from nnlearn.common.plots import save_figure
    from nnlearn.train import runs
    from nnlearn.train.threads import blas_threads

    run = Path(args.run_dir)
    out = check_output_path(args.out) if args.out else run / "confusion.png"  # before the work, not after it
    config, net = runs.load_model(run)
    dataset = config["dataset"]
    _train, (x_test, t_test) = load_arrays(dataset, runs.data_dir_of(config, args.data_dir))
    with blas_threads(args.threads) as choice:
        say_threads(choice)
        pred = net.classify(x_test)
    n_classes = net.sizes[-1]
    matrix = confusion_matrix(t_test, pred, n_classes)
    correct = int(matrix.trace())
    acc = correct / len(t_test)
    names = class_names_of(dataset)
    print(
        _(
            "model: {run} ({sizes} {activation}, {dataset})",
            run=run,
            sizes="-".join(map(str, net.sizes)),
            activation=net.activation,
            dataset=dataset,
        )
    )
    print(_("test accuracy {accuracy:.2%} ({correct} of {n})", accuracy=acc, correct=correct, n=len(t_test)))
    print(_("confusion matrix (rows: true class, columns: predicted class):"))
    print(format_confusion(matrix, None if names is None or dataset == "mnist" else range(n_classes)))
    pairs = most_confused(matrix, k=5)
    label = (lambda k: f"{k} ({names[k]})") if names and dataset != "mnist" else str
    if pairs:
        print(_("most confused: {pairs}", pairs=", ".join(f"{label(i)} -> {label(j)} ({n}x)" for i, j, n in pairs)))
    # The default is the run's own figure; a path the user names must lie outside run folders.
    with figure_text():  # the title in the figure's language
        figure = plot_confusion(
            matrix,
            names,
            title=_("Confusion matrix, {dataset} test data ({accuracy:.2%} correct)", dataset=dataset, accuracy=acc),
        )
    save_figure(figure, out, in_run_folder=not args.out)
    print(_("test accuracy {accuracy:.2%} -- confusion matrix in {out}", accuracy=acc, out=out))
    return 0


# -- nnlearn predict -------------------------------------------------------------------------------


def cmd_predict(args) -> int:
    import numpy as np

    from nnlearn.train import runs

    parser = args.parser
    if (args.image is None) == (args.index is None):
        parser.error(_("give an IMAGE file or --index N (not both)"))
    run = Path(args.run_dir)
    config, net = runs.load_model(run)
    dataset = config["dataset"]
    names = None if dataset == "mnist" else class_names_of(dataset)  # a digit names itself
    true = None
    side = int(round(math.sqrt(net.sizes[0])))
    if args.index is not None:
        (x_train, t_train), (x_test, t_test) = load_arrays(dataset, runs.data_dir_of(config, args.data_dir))
        x_all, t_all = (x_test, t_test) if args.split == "test" else (x_train, t_train)
        if args.index >= len(x_all):
            parser.error(
                _(
                    "argument --index: {index} is out of range; the {split} set has {n} images (0..{last})",
                    index=args.index,
                    split=args.split,
                    n=len(x_all),
                    last=len(x_all) - 1,
                )
            )
        x, true = x_all[args.index], int(t_all[args.index])
        name = f" {names[true]}" if names else ""
        print(
            _(
                "image {index} of the {dataset} {split} set (true class {true}{name})",
                index=args.index,
                dataset=dataset,
                split=args.split,
                true=true,
                name=name,
            )
        )
    else:
        if side * side != net.sizes[0]:
            raise NnlearnError(_("this model takes {n} inputs, not a square image; use --index", n=net.sizes[0]))
        from nnlearn.see.images import image_to_input

        x, inverted = image_to_input(args.image, side)
        print(
            _("image {image}: converted to {side}x{side} grey, white on black", image=args.image, side=side)
            + (_(" (inverted: the background was light)") if inverted else "")
        )
    probs = net.predict(np.asarray(x, dtype=np.float64).reshape(-1))
    best = int(np.argmax(probs))
    print(_("class probabilities:"))
    for k, p in enumerate(probs):
        name = f" {names[k]:<12}" if names else ""
        print(f"  {k}{name}  {p:.4f}" + ("  " + _("<- predicted") if k == best else ""))
    verdict = "" if true is None else "  " + (_("(correct)") if best == true else _("(wrong: it is {true})", true=true))
    label = f"{best} ({names[best]})" if names else str(best)
    print(_("predicted class {label} with probability {p:.2%}", label=label, p=probs[best]) + verdict)
    return 0
