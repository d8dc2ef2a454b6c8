"""``nnlearn data download|verify|info|show`` and ``nnlearn demo minibatch``."""

from __future__ import annotations

import argparse
from pathlib import Path

#: Grey levels of the text rendering, dark to bright (index = pixel * len // 256).
_SHADES = " .:-=+*#%@"


def _common(p: argparse.ArgumentParser) -> None:
    from nnlearn.datasets.mnist import DATASETS

    p.add_argument("--dataset", choices=DATASETS, default="mnist", help="which data set (default: mnist)")
    p.add_argument(
        "--data-dir", metavar="FOLDER", default=None,
        help="folder holding the files (or a DATASET/ sub-folder); default: NNLEARN_DATA, then the cache folder",
    )


def register(commands, demos) -> None:
    data = commands.add_parser(
        "data", help="download, verify, describe and show MNIST / Fashion-MNIST",
        description="Get the data sets, check them, and look at them.",
    )
    actions = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    p = actions.add_parser(
        "download", help="download the files (verified) unless they are already there",
        description="Download the four files over the mirrors into --data-dir (default: the user cache "
        "folder), verifying each by the SHA-256 of its decompressed content. Files already present "
        "and verified are kept.",
    )
    _common(p)
    p.add_argument("--timeout", type=float, default=None, metavar="S", help="seconds per connection/read (default 10)")
    p.set_defaults(func=cmd_download)

    p = actions.add_parser(
        "verify", help="check every file: one line per file; non-zero exit on any problem",
        description="Check each file's IDX structure and the SHA-256 of its decompressed content.",
    )
    _common(p)
    p.set_defaults(func=cmd_verify)

    p = actions.add_parser("info", help="where the files are, shapes, dtypes, class counts")
    _common(p)
    p.set_defaults(func=cmd_info)

    p = actions.add_parser("show", help="one image as a PNG and as text in the terminal")
    _common(p)
    p.add_argument("--index", type=int, default=0, help="which image (default 0)")
    p.add_argument("--split", choices=("train", "test"), default="train")
    p.add_argument("--out", default=None, metavar="PNG", help="where to write the PNG (default DATASET-SPLIT-INDEX.png)")
    p.set_defaults(func=cmd_show)

    p = demos.add_parser(
        "minibatch", help="4.2.3 mini-batch learning: the data's shapes and a random batch of 10",
        description="Load MNIST as the chapter does and draw a mini-batch with np.random.choice semantics.",
    )
    _common(p)
    p.add_argument("--batch-size", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_demo_minibatch)


def _folder_with_most(spec, data_dir) -> dict:
    """``{role: path or None}`` from the searched folder holding the most of ``spec``'s files."""
    from nnlearn.datasets.sources import candidate_dirs, file_in

    if data_dir is not None:
        folders = [Path(data_dir).expanduser() / spec.name, Path(data_dir).expanduser()]
    else:
        folders = candidate_dirs(spec)
    best: dict = {f.role: None for f in spec.files}
    for folder in folders:
        found = {f.role: file_in(folder, f) for f in spec.files}
        if sum(p is not None for p in found.values()) > sum(p is not None for p in best.values()):
            best = found
    return best


def cmd_download(args) -> int:
    from nnlearn.datasets.download import fetch_dataset
    from nnlearn.datasets.errors import DatasetError
    from nnlearn.datasets.mnist import get_spec
    from nnlearn.datasets.sources import download_dir, find_files
    from nnlearn.datasets.verify import verify_files

    spec = get_spec(args.dataset)
    if args.data_dir is None:
        paths = find_files(spec)
        if paths is not None and all(r.ok for r in verify_files(spec, paths)):
            print(f"{spec.title}: all {len(paths)} files present and verified in {paths[spec.files[0].role].parent}")
            return 0
    dest = Path(args.data_dir).expanduser() if args.data_dir is not None else download_dir(spec)
    try:
        paths = fetch_dataset(spec, dest, timeout=args.timeout)
    except DatasetError as exc:
        raise DatasetError(
            f"{exc}; if this machine has no network, copy the files into {dest} or pass --data-dir / "
            "set NNLEARN_DATA to a folder holding them"
        ) from None
    for f in spec.files:
        print(f"OK   {paths[f.role]}")
    print(f"{spec.title}: all {len(paths)} files verified in {dest}")
    return 0


def cmd_verify(args) -> int:
    from nnlearn.datasets.mnist import get_spec
    from nnlearn.datasets.sources import candidate_dirs
    from nnlearn.datasets.verify import verify_files

    spec = get_spec(args.dataset)
    paths = _folder_with_most(spec, args.data_dir)
    reports = verify_files(spec, paths)
    for r in reports:
        print(r.line())
    bad = sum(not r.ok for r in reports)
    if bad:
        if all(p is None for p in paths.values()):
            looked = [str(p) for p in candidate_dirs(spec, args.data_dir)] if args.data_dir is None else [args.data_dir]
            print(f"{spec.title}: no files found (looked in {', '.join(looked)}); run `nnlearn data download`")
        print(f"{spec.title}: {bad} of {len(reports)} files failed")
        return 1
    print(f"{spec.title}: all {len(reports)} files verified")
    return 0


def cmd_info(args) -> int:
    import numpy as np

    from nnlearn.datasets.cache import entry_dir, load_arrays
    from nnlearn.datasets.download import ensure_files
    from nnlearn.datasets.mnist import get_spec

    spec = get_spec(args.dataset)
    paths = ensure_files(spec, args.data_dir, download=False)
    arrays = load_arrays(spec, paths)
    print(f"{spec.title} ({spec.name})")
    for f in spec.files:
        p = paths[f.role]
        print(f"  {f.role:<13} {p}  ({p.stat().st_size} bytes)")
    print(f"  parsed cache  {entry_dir(spec, paths)}")
    for split in ("train", "test"):
        x, t = arrays[f"{split}-images"], arrays[f"{split}-labels"]
        print(f"{split}: images {x.shape} {x.dtype}, labels {t.shape} {t.dtype}")
        counts = np.bincount(t, minlength=len(spec.classes))
        print("  class counts: " + ", ".join(f"{c}={n}" for c, n in zip(spec.classes, counts)))
    print("load with normalize=True: float32 in [0, 1]; flatten=True: (N, 784); one_hot_label=True: (N, 10)")
    return 0


def render_text(image) -> str:
    """A 28x28 uint8 image as text, two characters per pixel (so it looks square)."""
    rows = []
    for row in image:
        rows.append("".join(_SHADES[int(v) * len(_SHADES) // 256] * 2 for v in row).rstrip())
    return "\n".join(rows)


def cmd_show(args) -> int:
    from matplotlib.figure import Figure

    from nnlearn.datasets.mnist import get_spec, load_dataset
    from nnlearn.plots import save_figure

    spec = get_spec(args.dataset)
    train, test = load_dataset(spec, normalize=False, flatten=False, data_dir=args.data_dir)
    x, t = train if args.split == "train" else test
    n = len(x)
    if not -n <= args.index < n:
        raise ValueError(f"--index {args.index} is out of range: the {args.split} split has {n} images (0..{n - 1})")
    image, label = x[args.index, 0], int(t[args.index])
    name = spec.classes[label]
    print(f"{spec.title} {args.split}[{args.index}]: label {label}" + (f" ({name})" if name != str(label) else ""))
    print(render_text(image))
    out = Path(args.out) if args.out else Path(f"{spec.name}-{args.split}-{args.index}.png")
    fig = Figure(figsize=(3, 3))
    ax = fig.add_subplot()
    ax.imshow(image, cmap="gray", vmin=0, vmax=255)
    ax.set_title(f"{args.split}[{args.index}]: {name}")
    ax.set_axis_off()
    save_figure(fig, out)
    print(f"wrote {out}")
    return 0


def cmd_demo_minibatch(args) -> int:
    import numpy as np

    from nnlearn.datasets.batches import sample_batch_indices
    from nnlearn.datasets.mnist import load_dataset

    print("== 4.2.3 Mini-batch learning ==")
    (x_train, t_train), _ = load_dataset(args.dataset, normalize=True, one_hot_label=True, data_dir=args.data_dir)
    print(f"  x_train.shape = {x_train.shape}")
    print(f"  t_train.shape = {t_train.shape}")
    train_size = x_train.shape[0]
    rng = np.random.default_rng(args.seed)
    batch_mask = sample_batch_indices(train_size, args.batch_size, rng)
    x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
    print(f"  batch_mask = rng.choice({train_size}, {args.batch_size})  (seed {args.seed}, with replacement)")
    print(f"  batch_mask = {batch_mask.tolist()}")
    print(f"  labels     = {t_batch.argmax(axis=1).tolist()}")
    print(f"  x_batch.shape = {x_batch.shape}, t_batch.shape = {t_batch.shape}")
    print("  -> each step learns from this random handful instead of all 60000 images.")
    return 0
