"""``nnlearn data download|import|verify|info|show``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnlearn.base.errors import UsageError
from nnlearn.base.files import make_folder
from nnlearn.base.i18n import _
from nnlearn.cli._args import add_data_args, dataset_of, positive_float, whole_number
from nnlearn.datasets.cache import check_entry, entry_dir, load_arrays
from nnlearn.datasets.download import ensure_files, fetch_dataset
from nnlearn.datasets.errors import DatasetError
from nnlearn.datasets.mnist import get_spec, load_dataset
from nnlearn.datasets.sources import best_folder, candidate_dirs, check_data_dir, download_dir, find_files
from nnlearn.datasets.verify import verify_files

#: Grey levels of the text rendering, dark to bright (index = pixel * len // 256).
_SHADES = " .:-=+*#%@"


def register(commands) -> None:
    data = commands.add_parser(
        "data",
        help="download, import, verify, describe and show MNIST / Fashion-MNIST",
        description="Get the data sets, check them, and look at them.",
    )
    actions = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    p = actions.add_parser(
        "download",
        help="download the files (verified) unless they are already there",
        description="Download the four files over the mirrors into --data-dir (default: the user cache "
        "folder, created if needed), verifying each by the SHA-256 of its decompressed content. Files "
        "already present and verified are kept. A mirror that delivers less than NNLEARN_SPEED_LIMIT "
        "bytes/s (default 1024) over NNLEARN_SPEED_TIME seconds (default 20) is abandoned and not tried "
        "for the other files.",
    )
    add_data_args(p)
    p.add_argument(
        "--timeout",
        type=positive_float,
        metavar="S",
        help="seconds to wait for a connection or the next block of data (default: NNLEARN_TIMEOUT or 10)",
    )
    p.set_defaults(func=cmd_download)

    p = actions.add_parser(
        "import",
        help="register a local copy once: verify FOLDER's files and copy them into the cache folder",
        description="Verify the four files in FOLDER (or FOLDER/DATASET/) and copy them into the user cache "
        "folder, where load_mnist() and every nnlearn command find them without --data-dir or NNLEARN_DATA.",
    )
    p.add_argument("folder", metavar="FOLDER", help="a folder holding the four files (.gz or not)")
    add_data_args(p, data_dir=False)
    p.set_defaults(func=cmd_import)

    p = actions.add_parser(
        "verify",
        help="check every file and the parsed cache: one line each; non-zero exit on any problem",
        description="Check each file's IDX structure and the SHA-256 of its decompressed content, then the "
        "parsed cache's arrays against their digests (a damaged cache is removed; the next load rebuilds it).",
    )
    add_data_args(p)
    p.set_defaults(func=cmd_verify)

    p = actions.add_parser("info", help="where the files are, shapes, dtypes, class counts")
    add_data_args(p)
    p.set_defaults(func=cmd_info)

    p = actions.add_parser(
        "show",
        help="one image: as text, and as a 28x28 image file that `nnlearn predict` reads back exactly",
        description="Print one image as text and write it, pixel for pixel (28x28, white on black), to --out; "
        "--figure also writes an enlarged figure with a title, for people.",
    )
    add_data_args(p)
    p.add_argument("--index", type=whole_number, default=0, help="which image (default 0)")
    p.add_argument(
        "--split",
        choices=("train", "test"),
        default="test",
        help="which split (default: test, as `nnlearn predict --index`)",
    )
    p.add_argument(
        "--out",
        metavar="FILE",
        help="the 28x28 image; its type follows the suffix: .png (default DATASET-SPLIT-INDEX.png), .bmp, .tif, .jpg",
    )
    p.add_argument("--figure", metavar="FILE", help="also write an enlarged figure with a title (.png, .pdf, .svg...)")
    p.set_defaults(func=cmd_show)


def cmd_download(args) -> int:
    spec = get_spec(dataset_of(args))
    if args.data_dir is None:
        paths = find_files(spec)
        if paths is not None and all(r.ok for r in verify_files(spec, paths)):
            print(
                _(
                    "{title}: all {n} files present and verified in {folder}",
                    title=spec.title,
                    n=len(paths),
                    folder=paths[spec.files[0].role].parent,
                )
            )
            return 0
    dest = Path(args.data_dir).expanduser() if args.data_dir is not None else download_dir(spec)
    make_folder(dest)  # a folder that cannot be made is said before any download
    try:
        paths = fetch_dataset(spec, dest, timeout=args.timeout)
    except DatasetError as exc:
        raise DatasetError(
            f"{exc}\n  "
            + _(
                "without network: copy the four files to any folder and run `nnlearn data import FOLDER --dataset {name}` "
                "once (or pass --data-dir FOLDER / set NNLEARN_DATA=FOLDER)",
                name=spec.name,
            )
        ) from None
    for f in spec.files:
        print(f"OK   {paths[f.role]}")
    print(_("{title}: all {n} files verified in {folder}", title=spec.title, n=len(paths), folder=dest))
    return 0


def cmd_import(args) -> int:
    from nnlearn.datasets.verify import import_files

    spec = get_spec(dataset_of(args))
    done = import_files(spec, args.folder)
    for f in spec.files:
        path, copied = done[f.role]
        print(f"OK   {f.name}: " + (_("copied to {path}", path=path) if copied else _("already in {path}", path=path)))
    print(
        _(
            "{title}: all {n} files verified and in {folder}; load_mnist() and every nnlearn command now find them "
            "without --data-dir",
            title=spec.title,
            n=len(done),
            folder=download_dir(spec),
        )
    )
    return 0


def cmd_verify(args) -> int:
    spec = get_spec(dataset_of(args))
    check_data_dir(args.data_dir)
    where, paths = best_folder(spec, args.data_dir)
    reports = verify_files(spec, paths, where=where)
    for r in reports:
        print(r.line())
    bad = sum(not r.ok for r in reports)
    if bad:
        if all(p is None for p in paths.values()):
            print(
                _(
                    "{title}: no files found (looked in {folders}); run `nnlearn data download` or `nnlearn data "
                    "import FOLDER`",
                    title=spec.title,
                    folders=", ".join(map(str, candidate_dirs(spec, args.data_dir))),
                )
            )
        print(_("{title}: {bad} of {n} files failed", title=spec.title, bad=bad, n=len(reports)))
        return 1
    entry, problem = check_entry(spec, paths)
    if problem is not None:
        print(
            "FAIL "
            + _(
                "parsed cache {entry}: damaged ({problem}); removed, the next load rebuilds it from the verified files",
                entry=entry,
                problem=problem,
            )
        )
        print(_("{title}: all {n} files verified; the parsed cache was damaged", title=spec.title, n=len(reports)))
        return 1
    print(
        "OK   "
        + (
            _("parsed cache {entry}: matches its digests", entry=entry)
            if entry.exists()
            else _("parsed cache {entry}: not built yet (the next load builds it)", entry=entry)
        )
    )
    print(_("{title}: all {n} files verified", title=spec.title, n=len(reports)))
    return 0


def cmd_info(args) -> int:
    spec = get_spec(dataset_of(args))
    paths = ensure_files(spec, args.data_dir, download=False)
    arrays = load_arrays(spec, paths)
    print(f"{spec.title} ({spec.name})")
    for f in spec.files:
        p = paths[f.role]
        print(f"  {f.role:<13} {p}  " + _("({n} bytes)", n=p.stat().st_size))
    print("  " + _("parsed cache") + f"  {entry_dir(spec, paths)}")
    for split in ("train", "test"):
        x, t = arrays[f"{split}-images"], arrays[f"{split}-labels"]
        print(
            _(
                "{split}: images {shape} {dtype}, labels {label_shape} {label_dtype}",
                split=split,
                shape=x.shape,
                dtype=x.dtype,
                label_shape=t.shape,
                label_dtype=t.dtype,
            )
        )
        counts = np.bincount(t, minlength=len(spec.classes))
        print("  " + _("class counts: {counts}", counts=", ".join(f"{c}={n}" for c, n in zip(spec.classes, counts))))
    print(_("load with normalize=True: float32 in [0, 1]; flatten=True: (N, 784); one_hot_label=True: (N, 10)"))
    return 0


def render_text(image) -> str:
    """A 28x28 uint8 image as text, two characters per pixel (so it looks square)."""
    rows = ("".join(_SHADES[int(v) * len(_SHADES) // 256] * 2 for v in row) for row in image)
    return "\n".join(row.rstrip() for row in rows)


def cmd_show(args) -> int:
    from nnlearn.see import images

    spec = get_spec(dataset_of(args))
    out = Path(args.out) if args.out else Path(f"{spec.name}-{args.split}-{args.index}.png")
    # Every output checked before the data are loaded: a typo costs no time.
    images.image_format(images.check_output_path(out))
    if args.figure:
        images.figure_format(images.check_output_path(args.figure))
    train, test = load_dataset(spec, normalize=False, flatten=False, data_dir=args.data_dir)
    x, t = train if args.split == "train" else test
    n = len(x)
    if not -n <= args.index < n:
        raise UsageError(
            _(
                "--index {index} is out of range: the {split} split has {n} images (0..{last})",
                index=args.index,
                split=args.split,
                n=n,
                last=n - 1,
            )
        )
    image, label = x[args.index, 0], int(t[args.index])
    name = spec.classes[label]
    print(
        f"{spec.title} {args.split}[{args.index}]: "
        + _("label {label}", label=label)
        + (f" ({name})" if name != str(label) else "")
    )
    print(render_text(image))
    print(
        _(
            "wrote {path}  (28x28, white on black: `nnlearn predict RUN {out}` reads it as is)",
            path=images.save_image(image, out),
            out=out,
        )
    )
    if args.figure:
        fig = images.digits_figure([image], [f"{args.split}[{args.index}]: {name}"], columns=1)
        print(
            _(
                "wrote {path}  (a figure for people; give --out's image to predict)",
                path=images.save_figure_as(fig, args.figure),
            )
        )
    return 0
