"""``nnlearn report``: one self-contained HTML page for a run, several runs, or a sweep."""

from __future__ import annotations

from nnlearn.base.i18n import _
from nnlearn.cli._args import add_data_args


def cmd_report(args) -> int:
    import time

    from nnlearn.base.files import check_output_path
    from nnlearn.see.report import default_output, write_report

    # Refused before the report is built (it reads every run and the test images). The default,
    # DIR/report.html, is the folder's own file; a path the user names must lie outside run folders.
    check_output_path(args.out or default_output(args.dirs), in_run_folder=args.out is None)
    t0 = time.perf_counter()
    out = write_report(args.dirs, args.out, data_dir=args.data_dir)
    size = out.stat().st_size
    print(
        _(
            "report written to {out} ({megabytes:.2f} MB, {seconds:.1f} s); open it in a browser",
            out=out,
            megabytes=size / 1e6,
            seconds=time.perf_counter() - t0,
        )
    )
    return 0


def register(commands) -> None:
    p = commands.add_parser(
        "report",
        help="write one self-contained HTML page about a run, several runs, or a sweep",
        description="Write one HTML file that holds everything (charts, images, style; no network needed): "
        "for a run its settings, result, loss and accuracy curves, confusion matrix, first-layer weights and "
        "example mistakes; for several runs their curves overlaid and settings side by side; for a sweep its "
        "trials sorted by validation accuracy, its figures and its final run.",
    )
    p.add_argument(
        "dirs", nargs="+", metavar="DIR", help="a run directory, several run directories, or a sweep directory"
    )
    p.add_argument(
        "--out", metavar="FILE.html", help="where to write (default DIR/report.html; needed for several DIRs)"
    )
    add_data_args(p, dataset=False)  # the test images of the report's mistakes; a run's own folder first
    p.set_defaults(func=cmd_report, parser=p)
