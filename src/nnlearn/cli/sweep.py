"""``nnlearn sweep``: search training settings by validation accuracy, on Dask, with Optuna.

The command parses its arguments, loads the data set, and hands the rest to :mod:`nnlearn.sweep`
(whose docstring describes the sweep folder).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from nnlearn.cli._args import add_data_args, int_at_least

_positive_int = int_at_least(1, "a positive integer")
_nonnegative_int = int_at_least(0, "a non-negative integer")

# Flags that describe the search; --resume takes them from the sweep folder instead.
_SEARCH_FLAGS = ("recipe", "param", "trials", "sampler", "epochs", "train_size", "validation", "seed", "dataset")


def _param(text: str):
    from nnlearn.errors import InputError
    from nnlearn.sweep import parse_param

    try:
        return parse_param(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--param ")) from None


def _validation(text: str):
    """A share in (0, 1) (``0.2``) or a whole number of samples (``10000``)."""
    try:
        value = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not 0 < value < 1:
            raise argparse.ArgumentTypeError(f"must be a share in (0, 1) or a number of samples, got {text!r}") from None
        return value
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a share in (0, 1) or a number of samples, got {text!r}")
    return value


def register(commands, demos) -> None:
    from nnlearn.settings import RECIPES

    p = commands.add_parser(
        "sweep", help="search training settings (learning rate, sizes, ...) by validation accuracy, on Dask",
        description="Train many settings of a recipe (the trials), each judged on validation data held back "
        "from the end of the training set; retrain the best on all training data and judge it once on the "
        "test data (DIR/final). Trials run as Dask tasks on a local cluster (--workers) or a running one "
        "(--scheduler); the search is an Optuna study in DIR/study.journal. Needs: " + 'pip install "nnlearn[sweep]"',
    )
    p.add_argument("--recipe", choices=tuple(RECIPES), default=None, help="settings to start from (default strong)")
    p.add_argument("--param", type=_param, action="append", metavar="NAME=KIND:ARGS",
                   help="a searched setting: loguniform:LOW:HIGH, uniform:LOW:HIGH, int:LOW:HIGH or "
                        "choice:A,B,... (hidden sizes like 512-256); repeat for more")
    p.add_argument("--trials", type=_positive_int, default=None, help="number of trials (default 30)")
    p.add_argument("--sampler", choices=("random", "tpe", "grid"), default=None,
                   help="random (default), tpe (Optuna's Bayesian sampler) or grid (choices and int ranges)")
    p.add_argument("--epochs", type=_positive_int, default=None, help="epochs per trial (default: the recipe's)")
    p.add_argument("--train-size", type=_positive_int, default=None, metavar="N",
                   help="use the first N training images (default all)")
    p.add_argument("--validation", type=_validation, default=None,
                   help="held back from the end of the training images for choosing: a share (0.2) or a "
                        "number (10000); default a sixth (10000 of MNIST's 60000)")
    # Read by this process only: the workers get the arrays from it.
    add_data_args(p)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, default=None,
                       help=f"processes of the local Dask cluster, one BLAS thread each (default {os.cpu_count()})")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                       help="run the trials on this running Dask cluster instead (`dask scheduler`)")
    p.add_argument("--seed", type=_nonnegative_int, default=None,
                   help="seed of the sampler and of every trial's weights and batches (default 0)")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--out", metavar="DIR", help="the sweep folder to create")
    out.add_argument("--resume", metavar="DIR", help="continue the sweep in DIR without redoing finished trials")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: when the terminal shows it)")
    p.set_defaults(func=cmd_sweep, parser=p)


def cmd_sweep(args) -> int:
    from nnlearn import datasets
    from nnlearn.sweep import Sweep, SweepInterrupted, SweepSpec, require_sweep_packages, validation_count

    parser = args.parser
    require_sweep_packages()
    if args.resume:
        given = [f"--{name.replace('_', '-')}" for name in _SEARCH_FLAGS if getattr(args, name) is not None]
        if given:
            parser.error(f"--resume continues a sweep with the settings it was started with; drop {', '.join(given)}")
        sweep = Sweep.open(args.resume)
    else:
        if not args.param:
            parser.error("give at least one --param NAME=KIND:ARGS, e.g. --param lr=loguniform:1e-4:1e-1")
        name = args.dataset or "mnist"
        spec = SweepSpec(
            params=tuple(args.param), recipe=args.recipe or "strong", trials=args.trials or 30,
            sampler=args.sampler or "random", seed=args.seed or 0, epochs=args.epochs, train_size=args.train_size,
            validation=args.validation if args.validation is not None else 1 / 6, dataset=name,
            data_dir=None if args.data_dir is None else str(Path(args.data_dir).resolve()),
        )
        sweep = None
        if (Path(args.out) / "sweep.json").exists():
            parser.error(f"{args.out} already holds a sweep; continue it with --resume {args.out} or choose another --out")
    spec = sweep.spec if sweep else spec
    t0 = time.perf_counter()
    (x_train, t_train), (x_test, t_test) = datasets.load_dataset(
        spec.dataset, normalize=True, flatten=True, data_dir=args.data_dir or spec.data_dir)
    # Created once the data is there: a folder is never left behind by a data set that is missing.
    sweep = sweep or Sweep.create(args.out, spec)
    n = min(spec.train_size or len(x_train), len(x_train))
    n_val = validation_count(n, spec.validation)
    where = f"the Dask cluster at {args.scheduler}" if args.scheduler else \
        f"a local Dask cluster of {args.workers or os.cpu_count()} processes"
    print(f"sweep: {spec.n_trials()} trials ({spec.sampler} sampler, seed {spec.seed}) of the {spec.recipe} recipe: "
          f"{spec.base_settings().describe(x_train.shape[1], None)}")
    print("searching: " + "  ".join(p.spec for p in spec.params))
    print(f"data: {spec.dataset}, {n - n_val} training images, the last {n_val} held back for validation "
          f"({time.perf_counter() - t0:.1f} s to load); trials on {where}; sweep folder {sweep.out}")
    try:
        best = sweep.run(x_train, t_train, x_test, t_test, workers=args.workers, scheduler=args.scheduler,
                         progress=args.progress)
    except SweepInterrupted as exc:
        print(f"nnlearn: {exc}", file=sys.stderr)
        return 130
    if best is None:
        from nnlearn.errors import NnlearnError

        raise NnlearnError(f"no trial completed; see the reasons in {sweep.out / 'trials.csv'}")
    values = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in best["params"].items())
    print(f"best: trial {best['number']}, validation accuracy {best['validation_accuracy']:.2%} "
          f"({best['trials']['complete']} trials completed, {best['trials']['failed']} failed): {values}")
    final = best.get("final")
    if final:
        print(f"final run on all training images: test accuracy {final['test_accuracy']:.2%} -- "
              f"run directory {final['run_dir']}")
    print(f"{sweep.out}: trials.csv, best.json, validation_curves.png, search_space.png "
          f"({time.perf_counter() - t0:.0f} s in all)")
    return 0
