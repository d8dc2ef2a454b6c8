"""Argument types shared by the commands: a bad value is an argparse error (usage line, exit 2)."""

from __future__ import annotations

import argparse
import sys

from nnlearn import datasets
from nnlearn.base.constraints import POSITIVE, Number
from nnlearn.base.errors import InputError
from nnlearn.base.i18n import pad, width
from nnlearn.train.threads import must, parse_request


def flag_type(constraint, check: bool = True):
    """An argparse type: the typed word as ``constraint`` reads and checks it (the vocabulary of
    :mod:`nnlearn.base.constraints`); a refusal is a usage error naming the flag (exit 2). A word the
    constraint cannot read at all keeps its reason (``--param``'s NAME=KIND:ARGS)."""

    def parse(text: str):
        try:
            value = constraint.parse(text)
        except InputError as exc:  # argparse names the flag itself: "argument --param: lr=..."
            raise argparse.ArgumentTypeError(str(exc).removeprefix("--param ")) from None
        try:
            return constraint.check(value, "value") if check else value
        except InputError:  # said as MUST_BE_WORD, which quotes the word as typed
            raise argparse.ArgumentTypeError(constraint.refuse_word(text)) from None

    return parse


def int_at_least(minimum: int):
    """Whole numbers >= ``minimum``, typed in ASCII digits (``int("١٢")`` is 12: refused)."""
    return flag_type(Number(int, minimum))


#: Any whole number (a seed, an index); a whole number >= 1; any number > 0.
whole_number = flag_type(Number(int))
positive_int = int_at_least(1)
positive_float = flag_type(POSITIVE)


def add_data_args(parser: argparse.ArgumentParser, dataset: bool = True, *, data_dir: bool = True) -> None:
    """``--dataset`` (default None, meaning mnist) and ``--data-dir``, for every command that reads a data set."""
    if dataset:
        parser.add_argument("--dataset", choices=datasets.DATASETS, help="which data set (default: mnist)")
    if data_dir:
        parser.add_argument(
            "--data-dir",
            metavar="FOLDER",
            help="folder holding the four files (or a DATASET/ sub-folder); it must exist. Default: NNLEARN_DATA, "
            "then the cache folder (where `nnlearn data download` and `nnlearn data import` put them)",
        )


def dataset_of(args) -> str:
    """The data set ``--dataset`` names (argparse checked the choice), mnist by default."""
    return args.dataset or "mnist"


def load_arrays(name: str, data_dir):
    """``(x_train, t_train), (x_test, t_test)`` of data set ``name``, as training sees them."""
    return datasets.load_dataset(name, normalize=True, flatten=True, data_dir=data_dir)


def class_names_of(name: str):
    """The class names of data set ``name``, or None for one without names (plain numbers)."""
    try:
        return list(datasets.class_names(name))
    except KeyError:
        return None


def threads_arg(text: str):
    """``auto`` or a whole number of BLAS threads (``--threads``), by :func:`nnlearn.train.threads.parse_request`."""
    try:
        return parse_request(text, "--threads") or "auto"
    except InputError:
        raise argparse.ArgumentTypeError(must(text)) from None


THREADS_HELP = (
    "BLAS threads for the whole run: a number, or auto (the default, or NNLEARN_THREADS): as many as "
    "cores are free at the start; config.json records them and --resume continues on them"
)


def say_threads(choice) -> None:
    """Print, on stderr, the one line a thread choice has for the user (busy cores), if any."""
    note = choice.note()
    if note:
        print(f"nnlearn: {note}", file=sys.stderr)


def add_threads_arg(parser, help: str = "BLAS threads (default: as many as cores are free)") -> None:
    """``--threads N|auto``, declared once for every command that runs BLAS."""
    parser.add_argument("--threads", type=threads_arg, metavar="N", help=help)


def print_table(header: list, rows: list, least: list) -> None:
    """Print a table whose first column is left-aligned and the others right-aligned, each at least
    ``least[i]`` terminal columns and as wide as its widest cell, so that it lines up in every language."""
    sizes = [max(n, *(width(str(row[i])) for row in [header, *rows])) for i, n in enumerate(least)]
    for row in [header, *rows]:
        print(" ".join(pad(str(cell), n, "<" if i == 0 else ">") for i, (cell, n) in enumerate(zip(row, sizes))))
