"""``nnlearn gradcheck``: backpropagation against the numerical gradient (:mod:`nnlearn.common.gradient_check`)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from nnlearn.base.i18n import _
from nnlearn.cli._args import (
    add_data_args,
    add_threads_arg,
    dataset_of,
    load_arrays,
    positive_int,
    print_table,
    say_threads,
)
from nnlearn.cli._settings import add_declared_flags, flag_of, given_flags
from nnlearn.common import engines
from nnlearn.common.gradient_check import gradient_check_record
from nnlearn.common.networks import network_for, with_dtype
from nnlearn.train import runs
from nnlearn.train.settings import TrainSettings
from nnlearn.train.threads import blas_threads

#: The settings ``nnlearn gradcheck`` takes: the network's and the batch's.
GRADCHECK_SETTINGS = ("hidden_size", "activation", "weight_init_std", "loss", "batch_size", "seed")


def register(commands) -> None:
    p = commands.add_parser(
        "gradcheck",
        help="compare backpropagation with the numerical gradient",
        description="Compute the gradient of a network's loss on a small batch both ways -- backpropagation "
        "and the chapter's numerical gradient -- and print, per parameter, the largest absolute and the "
        "relative difference. float64; by default the book's check: TwoLayerNet(784, 50, 10), MNIST train[:3]. "
        "Given a run folder, the run's trained network is checked on its data set and the result saved as "
        "RUN/gradcheck.json, which `nnlearn report` shows.",
    )
    p.add_argument("run_dir", nargs="?", metavar="RUN", help="check this run's trained network (default: a new one)")
    add_data_args(p)
    p.add_argument("--synthetic", action="store_true", help="random inputs instead of a data set (no files needed)")
    add_declared_flags(
        p, TrainSettings, only=GRADCHECK_SETTINGS, default="the book's TwoLayerNet(784, 50, 10); batch 3"
    )
    p.set_defaults(batch_size=3)
    p.add_argument(
        "--all",
        action="store_true",
        help="check every parameter (numerical gradient by the fast engine) instead of a sample",
    )
    p.add_argument(
        "--sample",
        type=positive_int,
        default=100,
        metavar="N",
        help="without --all: elements checked per parameter, each by the plain loop (default 100)",
    )
    add_threads_arg(p)
    p.add_argument(
        "--engine",
        choices=engines.engine_names(engines.NUMERICAL),
        default=engines.default_engine(engines.NUMERICAL),
        help="with --all: how the numerical gradient is computed: fast (default), rows, or loop "
        "(the book's plain loop)",
    )
    p.set_defaults(func=cmd_gradcheck, parser=p)


def cmd_gradcheck(args) -> int:
    net, x, t, source, run = _gradcheck_subject(args)
    n_params = sum(p.size for p in net.params.values())
    print(
        _(
            "gradient check: {kind} {sizes} {activation}, {loss}, init {init}, on {source}; float64",
            kind=type(net).__name__,
            sizes="-".join(map(str, net.sizes)),
            activation=net.activation,
            loss=net.loss_type,
            init=net.config()["weight_init_std"],
            source=source,
        )
    )
    if args.all:
        how = (
            _("the {engine} engine, 2 forward passes each", engine=args.engine)
            if args.engine == "loop"
            else _("the {engine} engine", engine=args.engine)
        )
        print(
            _(
                "numerical gradient: central differences (h=1e-4) for all {n} parameters, by {how} ...",
                n=n_params,
                how=how,
            )
        )
    else:
        print(
            _(
                "numerical gradient: central differences (h=1e-4) for up to {n} random elements of each parameter, "
                "2 forward passes each (--all checks every parameter) ...",
                n=args.sample,
            )
        )
    t0 = time.perf_counter()
    with blas_threads(args.threads) as choice:
        say_threads(choice)
        record = gradient_check_record(
            net, x, t, engine=args.engine, sample=None if args.all else args.sample, seed=args.seed or 0, batch=source
        )
    seconds = time.perf_counter() - t0
    print_table(
        [_("param"), _("shape"), _("checked"), _("max |backprop - numerical|"), _("relative")],
        [
            [key, str(tuple(r["shape"])), r["checked"], f"{r['max_abs']:.3e}", f"{r['relative']:.3e}"]
            for key, r in record["params"].items()
        ],
        [6, 12, 8, 27, 10],
    )
    if record["kinks"]:
        print(
            _(
                "note: {n} ReLU inputs lie within 1e-3 of the kink at 0; the numerical gradient is unreliable there "
                "(a larger --weight-init-std avoids it)",
                n=record["kinks"],
            )
        )
    verdict = (
        _("backpropagation and the numerical gradient agree")
        if record["agree"]
        else _("backpropagation and the numerical gradient DISAGREE")
    )
    print(
        verdict
        + _(
            ": largest relative difference {worst:.2e} (limit {limit:g}), {seconds:.1f} s",
            worst=record["worst"],
            limit=record["limit"],
            seconds=seconds,
        )
    )
    if run is not None:
        runs.write_json(run / "gradcheck.json", record)
        print(_("saved in {path} (`nnlearn report {run}` shows it)", path=run / "gradcheck.json", run=run))
    return 0 if record["agree"] else 1


def _gradcheck_subject(args):
    """``(float64 network, x, t, where the batch comes from, run folder or None)`` of gradcheck's arguments."""
    given = given_flags(args, TrainSettings, only=GRADCHECK_SETTINGS)
    run = None if args.run_dir is None else Path(args.run_dir)
    if run is not None:
        extra = [flag_of(name) for name in given if name not in ("batch_size", "seed")]
        if extra or args.synthetic:
            args.parser.error(
                _("a run's own network is checked; drop {flags}", flags=", ".join(extra or ["--synthetic"]))
            )
        config, net = runs.load_model(run)
        net = with_dtype(net, np.float64)
        dataset, data_dir = config["dataset"], runs.data_dir_of(config, args.data_dir)
    else:
        settings = TrainSettings(**given, dtype="float64")
        dataset, data_dir = dataset_of(args), args.data_dir
    rng = np.random.default_rng(args.seed or 0)
    n = args.batch_size
    if args.synthetic:
        x, t = rng.random((n, 784)), rng.integers(0, 10, n)
        source = _("{n} random inputs", n=n)
    else:
        (x_train, t_train), _test = load_arrays(dataset, data_dir)
        if n > len(x_train):
            args.parser.error(_("argument --batch-size: the data set has only {n} training images", n=len(x_train)))
        x, t = x_train[:n].astype(np.float64), t_train[:n]
        source = f"{dataset} train[:{n}]"
    if run is None:
        net = network_for(settings, x.shape[1], 10)
    return net, x, t, source, run
