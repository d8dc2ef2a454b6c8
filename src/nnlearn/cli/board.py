"""``nnlearn board``: a local web page listing the runs and sweeps in a folder, curves updating live."""

from __future__ import annotations

from nnlearn.base.constraints import Number
from nnlearn.cli._args import add_data_args, flag_type

#: What ``--open`` may open: the runs list, the lessons, or one lesson.
PAGES = ("runs", "lessons", "lessons/diff", "lessons/gradient", "lessons/descent", "lessons/numgrad")


def cmd_board(args) -> int:
    from nnlearn.see.board.server import serve

    page = None if args.open is None else ("" if args.open == "runs" else args.open)
    serve(args.dir, host=args.host, port=args.port, data_dir=args.data_dir, open_page=page)
    return 0


def register(commands) -> None:
    p = commands.add_parser(
        "board",
        help="a local web page of the runs in a folder: states, accuracies, live curves, reports",
        description="Serve a read-only web page listing the runs and sweeps under DIR (default ./runs) with "
        "their state and accuracy; overlay their curves (a training run's curves update by themselves) and "
        "open each run's report. Its lessons (/lessons) let you touch sections 4.3-4.4 of the chapter. It only "
        "reads: nothing under DIR is written. Ctrl-C stops it.",
    )
    p.add_argument(
        "dir", nargs="?", default="runs", metavar="DIR", help="folder holding run directories (default runs)"
    )
    p.add_argument(
        "--port", type=flag_type(Number(int, 0, 65535)), default=8765, help="port (default 8765; 0 picks a free one)"
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this computer only; 0.0.0.0 lets anyone on the "
        "network read the folder). Only requests naming 127.0.0.1, localhost or this address are answered",
    )
    p.add_argument(
        "--open",
        nargs="?",
        const="runs",
        choices=PAGES,
        metavar="PAGE",
        help="open PAGE in the web browser once the board listens: runs (the default), lessons (the "
        "chapter's lessons), or one lesson: " + ", ".join(PAGES[2:]),
    )
    add_data_args(p, dataset=False)  # the test images of the report's mistakes; a run's own folder first
    p.set_defaults(func=cmd_board, parser=p)
