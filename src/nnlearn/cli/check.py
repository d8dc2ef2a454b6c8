"""``nnlearn check FILE...``: the reader's own chapter-4 functions, tested against nnlearn and explained.

Parses, calls :func:`nnlearn.checker.check_files`, prints the report (a table, or ``--json``); exits 0
only when every chapter function found in every file passes.
"""

from __future__ import annotations

import json
import sys

from nnlearn.cli._args import positive_float


def cmd_check(args) -> int:
    from nnlearn.base.i18n import choose

    lang = choose(args.lang)
    if sys.stdout.encoding and sys.stdout.encoding.lower().replace("-", "") not in ("utf8", "utf16", "utf32"):
        sys.stdout.reconfigure(errors="backslashreplace")  # a terminal without ✓ or 中文 still gets the report
    return _watch(args, lang) if args.watch else _check_once(args, lang)


def _check_once(args, lang) -> int:
    from nnlearn.base.errors import InputError
    from nnlearn.checker import DEFAULT_TIMEOUT, CheckInputError, check_files

    try:
        reports = check_files(args.files, lang, only=args.only, timeout=args.timeout or DEFAULT_TIMEOUT)
    except CheckInputError as exc:  # a file that cannot be read, an unknown name: said in the report's language
        raise InputError(exc.in_language(lang)) from None
    if args.json:
        data = (
            reports[0].to_json()
            if len(reports) == 1
            else {"files": [r.to_json() for r in reports], "ok": all(r.ok for r in reports)}
        )
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print("\n\n".join(r.text() for r in reports))
    return 0 if all(r.ok for r in reports) else 1


def _watch(args, lang) -> int:
    """``--watch``: one file, checked now and after each save, until Ctrl-C. After the first check a
    file that cannot be read (an editor halfway through saving) is said in one line and watched on."""
    import time

    from nnlearn.base.errors import InputError
    from nnlearn.base.i18n import translate
    from nnlearn.checker.watch import CHECKING, ONE_FILE, watch

    if len(args.files) != 1:
        raise InputError(translate(ONE_FILE, lang, count=len(args.files)))
    runs = []

    def once():
        print(translate(CHECKING, lang, time=time.strftime("%H:%M:%S"), file=args.files[0]), flush=True)
        runs.append(1)
        try:
            _check_once(args, lang)
        except InputError as exc:
            if len(runs) == 1:
                raise
            print(f"nnlearn: error: {exc}", file=sys.stderr)
        sys.stdout.flush()

    return watch(args.files[0], once)


def register(commands) -> None:
    # --lang, the report's language, is every command's (nnlearn.cli).
    p = commands.add_parser(
        "check",
        help="check your own chapter-4 functions against nnlearn, with each mistake explained",
        description="Run your .py file or notebook in a separate process with limits, find the chapter's "
        "functions you wrote (sigmoid, softmax, cross_entropy_error, numerical_gradient, gradient_descent, "
        "simpleNet, TwoLayerNet, ...), call each the way the book does, compare with nnlearn, and explain "
        "every difference: what was seen, why, the book's section and the smallest fix. Exit status 0 only "
        "when every function found passes.",
        epilog="examples: nnlearn check ch04/my_functions.py;  nnlearn check notes.ipynb --lang zh;  "
        "nnlearn check two_layer_net.py --only TwoLayerNet --json;  nnlearn check --watch my_functions.py",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="a .py file or a Jupyter notebook (.ipynb)")
    p.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="check only this name (softmax, TwoLayerNet, TwoLayerNet.gradient, ...); repeat it, or "
        "separate names with commas",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--timeout",
        type=positive_float,
        metavar="S",
        help="seconds one call of your code may take (default 5); the file's top level gets twice as long",
    )
    p.add_argument("--watch", action="store_true", help="check the file again each time it is saved (Ctrl-C ends)")
    p.set_defaults(func=cmd_check, parser=p)
