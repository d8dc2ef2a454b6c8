"""``nnlearn sweep``: search training settings by validation accuracy, on Dask, with Optuna.

The command parses its arguments, loads the data set, and hands the rest to :mod:`nnlearn.sweep`
(whose docstring describes the sweep folder). The flags that describe the search are the fields of
:class:`~nnlearn.sweep.SweepSpec`: their declarations give each flag's check, help and default.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from nnlearn.base.errors import InputError, NnlearnError
from nnlearn.base.i18n import _
from nnlearn.cli._args import add_data_args, load_arrays, positive_int
from nnlearn.cli._settings import add_declared_flags, flag_of, given_flags
from nnlearn.sweep import Sweep, SweepInterrupted, SweepSpec, require_sweep_packages
from nnlearn.sweep.folder import check_new_sweep
from nnlearn.sweep.spec import options
from nnlearn.train.training import infer_classes


def register(commands) -> None:
    p = commands.add_parser(
        "sweep",
        help="search training settings (learning rate, sizes, ...) by validation accuracy, on Dask",
        description="Train many settings of a recipe (the trials), each judged on validation data held back "
        "from the end of the training set; retrain the best on all training data and judge it once on the "
        "test data (DIR/final). Trials run as Dask tasks on a local cluster (--workers) or a running one "
        "(--scheduler); the search is an Optuna study in DIR/study.journal. Needs: " + 'pip install "nnlearn[sweep]"',
    )
    add_declared_flags(p, SweepSpec)
    # Read by this process only: the workers get the arrays from it.
    add_data_args(p)
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=positive_int,
        help=f"processes of the local Dask cluster, one BLAS thread each (default {os.cpu_count()})",
    )
    where.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run the trials on this running Dask cluster instead (`dask scheduler`)",
    )
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--out", metavar="DIR", help="the sweep folder to create")
    out.add_argument("--resume", metavar="DIR", help="continue the sweep in DIR without redoing finished trials")
    p.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, help="progress bar (default: when the terminal shows it)"
    )
    p.set_defaults(func=cmd_sweep, parser=p)


def _open(args):
    """``(sweep, spec)``: the sweep to resume (its spec), or None and the spec of a new one."""
    parser = args.parser
    given = given_flags(args, SweepSpec)
    if args.resume:
        searched = [options()[name].flag or flag_of(name) for name in given if options()[name].searched]
        if searched:
            parser.error(
                _(
                    "--resume continues a sweep with the settings it was started with; drop {flags}",
                    flags=", ".join(searched),
                )
            )
        sweep = Sweep.open(args.resume)
        return sweep, sweep.spec
    if "params" not in given:
        parser.error(_("give at least one --param NAME=KIND:ARGS, e.g. --param lr=loguniform:1e-4:1e-1"))
    try:  # before the data set loads; a folder that holds a sweep already is a usage error
        check_new_sweep(args.out)
    except InputError as exc:
        parser.error(str(exc))
    if "data_dir" in given:
        given["data_dir"] = str(Path(given["data_dir"]).resolve())
    return None, SweepSpec(**given)


def cmd_sweep(args) -> int:
    require_sweep_packages()
    sweep, spec = _open(args)
    t0 = time.perf_counter()
    (x_train, t_train), (x_test, t_test) = load_arrays(spec.dataset, args.data_dir or spec.data_dir)
    load_seconds = time.perf_counter() - t0
    n, n_val = spec.data_sizes(len(x_train))
    # Created once the data is there: a folder is never left behind by a data set that is missing.
    sweep = sweep or Sweep.create(args.out, spec)
    where = (
        _("the Dask cluster at {scheduler}", scheduler=args.scheduler)
        if args.scheduler
        else _("a local Dask cluster of {n} processes", n=args.workers or os.cpu_count())
    )
    print(
        _(
            "sweep: {n} trials ({sampler} sampler, seed {seed}) of the {recipe} recipe: {description}",
            n=spec.n_trials(),
            sampler=spec.sampler,
            seed=spec.seed,
            recipe=spec.recipe,
            description=spec.base_settings().describe(x_train.shape[1], infer_classes(t_train[:n])),
        )
    )
    print(_("searching: {params}", params="  ".join(p.spec for p in spec.params)))
    print(
        _(
            "data: {dataset}, {train:,} images for training and {validation:,} more held back for validation "
            "({seconds:.1f} s to load); trials on {where}; sweep folder {out}",
            dataset=spec.dataset,
            train=n - n_val,
            validation=n_val,
            seconds=load_seconds,
            where=where,
            out=sweep.out,
        )
    )
    try:
        best = sweep.run(
            x_train, t_train, x_test, t_test, workers=args.workers, scheduler=args.scheduler, progress=args.progress
        )
    except SweepInterrupted as exc:
        print(f"nnlearn: {exc}", file=sys.stderr)
        return 130
    if best is None:
        raise NnlearnError(_("no trial completed; see the reasons in {path}", path=sweep.out / "trials.csv"))
    _say_best(best, sweep.out, time.perf_counter() - t0)
    return 0


def _say_best(best: dict, out: Path, seconds: float) -> None:
    values = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in best["params"].items())
    print(
        _(
            "best: trial {number}, validation accuracy {accuracy:.2%} ({complete} trials completed, {failed} "
            "failed): {values}",
            number=best["number"],
            accuracy=best["validation_accuracy"],
            complete=best["trials"]["complete"],
            failed=best["trials"]["failed"],
            values=values,
        )
    )
    print(f"  {best['description']}")
    final = best.get("final")
    if final:
        print(
            _(
                "final run on all training images: test accuracy {accuracy:.2%} -- run directory {run}",
                accuracy=final["test_accuracy"],
                run=final["run_dir"],
            )
        )
    print(
        _(
            "{out}: trials.csv, best.json, validation_curves.png, search_space.png ({seconds:.0f} s in all)",
            out=out,
            seconds=seconds,
        )
    )
