"""``nnlearn demo routes``: a rule, hand-made features + classic ML, and a network, on the same test set."""

from __future__ import annotations

import sys

from nnlearn.cli._args import add_data_args, whole_number
from nnlearn.base.i18n import _


def _routes(args) -> int:
    import numpy as np

    from nnlearn.see import routes
    from nnlearn.base.files import check_output_folder, check_output_path
    from nnlearn.datasets import load_dataset
    from nnlearn.common.plots import save_figure

    # The figures come after a minute of work: a --out that cannot take them is refused first.
    out = check_output_folder(args.out)
    for name in ("routes_accuracy.png", "routes_mistakes.png"):
        check_output_path(out / name)
    routes.require_classic()  # before loading anything: say at once what is missing
    (x_train, t_train), (x_test, t_test) = load_dataset("mnist", data_dir=args.data_dir)
    if args.train_size < len(x_train):
        # A fixed seed picks the same subset every time, so the table is reproducible.
        keep = np.sort(np.random.default_rng(args.seed).choice(len(x_train), args.train_size, replace=False))
        x_train, t_train = x_train[keep], t_train[keep]
    x_test, t_test = x_test[: args.test_size], t_test[: args.test_size]
    progress = sys.stderr.isatty()
    print(_("training on {train} images, testing on {test} that no route has seen", train=len(x_train),
            test=len(x_test)))
    results = routes.run_routes(x_train, t_train, x_test, t_test, seed=args.seed, progress=progress)
    print(routes.format_table(results))
    for r in results:
        if r.note:
            print(f"  {r.name}: {r.note}")
    accuracy = routes.plot_accuracy(results, len(x_train), len(x_test))
    print(_("wrote {path}", path=save_figure(accuracy, out / "routes_accuracy.png")))
    print(_("wrote {path}", path=save_figure(routes.plot_mistakes(results, x_test, t_test), out / "routes_mistakes.png")))
    return 0


def register(commands, demos) -> None:
    from nnlearn.cli._args import int_at_least
    from nnlearn.cli.demo import add_out_argument

    p = demos.add_parser(
        "routes",
        help="a rule, hand-made features + classic ML, and a network: who reads digits best?",
        description="Three routes to recognising a digit, judged on the same test images (all 10,000 by default).",
    )
    p.add_argument("--train-size", type=int_at_least(10, "at least 10 training images"), default=60000, metavar="N", help="training images (default all 60000)")
    p.add_argument("--test-size", type=int_at_least(1, "at least 1 test image"), default=10000, metavar="N",
                   help="judge on the first N test images (default all 10000)")
    p.add_argument("--seed", type=whole_number, default=0, help="seed for the training subset and the network (default 0)")
    add_data_args(p, dataset=False)
    add_out_argument(p)
    p.set_defaults(func=_routes)
