"""Writers refuse what is not theirs to replace: every command that writes a file or fills a folder,
given a device, a FIFO, a folder, a socket, a link to a device, or a path inside a run or sweep folder,
says so in one line and leaves everything byte for byte as it was -- no temporary file left either.
A regular file the user names is still replaced atomically."""

from __future__ import annotations

import hashlib
import os
import socket
import stat
from pathlib import Path

import pytest
from mnist_tiny import idx_bytes, tiny_arrays, tiny_spec, write_tiny

import nnlearn.datasets.mnist as mnist_mod
from nnlearn.cli import main


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Tiny MNIST known as "mnist", a trained run, a sweep folder, and hostile things to write to.

    Made once for the module: every refusal is checked to change nothing, and what the tests
    create they name uniquely.
    """
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from _world(tmp_path_factory.mktemp("outputs"), monkeypatch)


def _world(tmp_path, monkeypatch):
    arrays = tiny_arrays(n_train=40, n_test=10)
    payloads = {role: idx_bytes(a) for role, a in arrays.items()}
    monkeypatch.setitem(mnist_mod.SPECS, "mnist", tiny_spec(payloads, name="mnist"))
    monkeypatch.delenv("NNLEARN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    data = write_tiny(tmp_path / "data", payloads)
    run = tmp_path / "runs" / "k1"
    assert (
        main(
            ["train", "--data-dir", str(data), "--iters", "3", "--batch-size", "4", "--no-progress", "--out", str(run)]
        )
        == 0
    )
    sweep = tmp_path / "sweeps" / "s1"
    sweep.mkdir(parents=True)
    (sweep / "sweep.json").write_text('{"params": {}}')
    (sweep / "trials.csv").write_text("number,state\n0,COMPLETE\n")
    t = tmp_path / "t"
    t.mkdir()
    if os.geteuid() == 0:
        # As root a rename replaces even /dev/full (the bug): test on a copy of the device, never on it.
        device = t / "full.png"
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    else:
        device = Path("/dev/full")  # without root nothing can replace it
    os.mkfifo(t / "fifo.png")
    (t / "dir.png").mkdir()
    (t / "dir.png" / "inside.txt").write_text("mine")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(t / "sock.png"))
    (t / "link.png").symlink_to(device)
    (t / "file.txt").write_text("a file, not a folder")
    yield {"data": str(data), "run": run, "sweep": sweep, "t": t, "device": device, "root": tmp_path}
    sock.close()


def file_targets(w) -> dict:
    t, run, sweep = w["t"], w["run"], w["sweep"]
    return {
        "a device": w["device"],
        "a FIFO": t / "fifo.png",
        "a folder": t / "dir.png",
        "a socket": t / "sock.png",
        "a link to a device": t / "link.png",
        "a file of a run": run / "config.json",
        "a new file in a run": run / "new.png",
        "a file of a sweep": sweep / "trials.csv",
    }


def folder_targets(w) -> dict:
    t, run, sweep = w["t"], w["run"], w["sweep"]
    return {
        "a device": w["device"],
        "a FIFO": t / "fifo.png",
        "a socket": t / "sock.png",
        "a file": t / "file.txt",
        "a link to a device": t / "link.png",
        "a run": run,
        "a folder in a run": run / "figures",
        "a sweep": sweep,
    }


def snapshot(root: Path, device: Path) -> dict:
    """Every entry under root (links not followed) and the device: its type, inode, and bytes."""
    seen = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(folder) / name
            st = os.lstat(p)
            body = hashlib.sha256(p.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else None
            seen[str(p)] = (stat.S_IFMT(st.st_mode), st.st_ino, st.st_rdev, body)
    st = os.lstat(device)
    seen[str(device)] = (stat.S_IFMT(st.st_mode), st.st_ino, st.st_rdev, None)
    return seen


def run_cli(capsys, argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(capsys, w, argv, target, *, before_work=True):
    before = snapshot(w["root"], w["device"])
    code, out, err = run_cli(capsys, argv)
    lines = [line for line in err.splitlines() if not line.startswith("nnlearn: warning:")]
    assert code == 1 and len(lines) == 1, (argv, err)
    assert lines[0].startswith("nnlearn: error: ") and str(target) in lines[0], (argv, err)
    assert "internal error" not in err
    if before_work:
        assert out == "", (argv, out)  # refused before any work
    assert snapshot(w["root"], w["device"]) == before, argv  # nothing replaced, nothing left behind
    return lines[0]


#: How the refusal names each kind.
WORDS = {"a FIFO": "a FIFO (named pipe)", "a link to a device": "a device"}

FILE_WRITERS = {
    "diff --plot": lambda w, t: ["diff", "x**2", "--at", "1", "--plot", t],
    "data show --out": lambda w, t: ["data", "show", "--data-dir", w["data"], "--out", t],
    "data show --figure": lambda w, t: [
        "data",
        "show",
        "--data-dir",
        w["data"],
        "--out",
        w["t"] / "ok.png",
        "--figure",
        t,
    ],
    "report --out": lambda w, t: ["report", w["run"], "--out", t],
}


@pytest.mark.parametrize("writer", FILE_WRITERS)
def test_file_writers_refuse_what_is_not_theirs(world, capsys, writer):
    for kind, target in file_targets(world).items():
        line = assert_refused(capsys, world, FILE_WRITERS[writer](world, target), target)
        if "run" in kind or "sweep" in kind:
            assert "it is inside the run or sweep folder" in line
        elif kind != "a folder" or writer in ("diff --plot", "report --out"):
            assert f"it is {WORDS.get(kind, kind)}, not a regular file" in line, line
        else:  # data show names a folder with an example of a file name
            assert f"{target} " in line and "folder" in line and str(target / "digit.png") in line, line


def test_evaluate_refuses_what_is_not_its_own(world, capsys):
    for kind, target in file_targets(world).items():
        assert_refused(capsys, world, ["evaluate", world["run"], "--out", target], target, before_work=False)


def test_evaluate_checks_its_output_before_the_work(world, capsys):
    assert_refused(capsys, world, ["evaluate", world["run"], "--out", world["t"] / "fifo.png"], world["t"] / "fifo.png")


FOLDER_WRITERS = {
    **{
        f"demo {s}": (lambda s: lambda w, d: ["demo", s, "--out", d])(s)
        for s in ("derivative", "rounding", "partial", "gradient", "descent", "all")
    },
    "demo minibatch": lambda w, d: ["demo", "minibatch", "--data-dir", w["data"], "--out", d],
    "demo routes": lambda w, d: [
        "demo",
        "routes",
        "--train-size",
        "20",
        "--test-size",
        "5",
        "--data-dir",
        w["data"],
        "--out",
        d,
    ],
}
#: The file each writer puts into its folder.
FIGURE = {
    "demo derivative": "tangent.png",
    "demo rounding": "rounding.png",
    "demo partial": "surface.png",
    "demo gradient": "gradient_field.png",
    "demo descent": "descent_path.png",
    "demo all": "tangent.png",
    "demo minibatch": "minibatch.png",
    "demo routes": "routes_accuracy.png",
}


@pytest.mark.parametrize("writer", FOLDER_WRITERS)
def test_folder_writers_refuse_what_is_not_theirs(world, capsys, writer):
    for kind, target in folder_targets(world).items():
        line = assert_refused(capsys, world, FOLDER_WRITERS[writer](world, target), target)
        assert ("inside the run or sweep folder" in line) == (kind in ("a run", "a folder in a run", "a sweep")), line
    # A good folder whose figure's name is taken by a FIFO: the section may run, the FIFO stays.
    figures = world["root"] / f"figures-{writer.replace(' ', '-')}"
    figures.mkdir()
    os.mkfifo(figures / FIGURE[writer])
    assert_refused(
        capsys,
        world,
        FOLDER_WRITERS[writer](world, figures),
        figures / FIGURE[writer],
        before_work=writer == "demo routes",
    )


def test_train_refuses_what_is_not_a_folder(world, capsys):
    for kind, target in folder_targets(world).items():
        if kind in ("a run", "a folder in a run", "a sweep"):
            continue  # see test_train_refuses_a_run_inside_a_run_folder
        assert_refused(
            capsys,
            world,
            [
                "train",
                "--data-dir",
                world["data"],
                "--iters",
                "3",
                "--batch-size",
                "4",
                "--no-progress",
                "--out",
                target,
            ],
            target,
        )


@pytest.mark.parametrize("kind", ["a device", "a run"])
def test_demo_overfit_refuses_what_is_not_its_folder(world, capsys, kind):
    # Refused when the figure is written, after the training (cli/train.py checks no earlier).
    target = folder_targets(world)[kind]
    assert_refused(
        capsys,
        world,
        [
            "demo",
            "overfit",
            "--data-dir",
            world["data"],
            "--epochs",
            "1",
            "--train-size",
            "20",
            "--no-progress",
            "--out",
            target,
        ],
        target,
        before_work=False,
    )


def test_train_refuses_a_run_inside_a_run_folder(world, capsys):
    target = world["run"] / "nested"
    assert_refused(
        capsys,
        world,
        ["train", "--data-dir", world["data"], "--iters", "3", "--batch-size", "4", "--no-progress", "--out", target],
        target,
    )


def test_a_regular_file_the_user_names_is_replaced_atomically(world, capsys):
    t = world["t"]
    for argv, name in (
        (["diff", "x**2", "--at", "1", "--plot", t / "old.png"], "old.png"),
        (["data", "show", "--data-dir", world["data"], "--out", t / "digit.png"], "digit.png"),
        (["report", world["run"], "--out", t / "report.html"], "report.html"),
    ):
        (t / name).write_bytes(b"old contents")
        inode = os.stat(t / name).st_ino
        code, out, err = run_cli(capsys, argv)
        assert code == 0, err
        new = (t / name).read_bytes()
        assert new != b"old contents" and new[:4] in (b"\x89PNG", b"<!DO")
        assert os.stat(t / name).st_ino != inode  # a new file renamed into place, not written over the old
    assert sorted(p.name for p in t.iterdir() if p.name.startswith(".")) == []
    # The folder's own writers still write into it: report's and evaluate's defaults.
    assert run_cli(capsys, ["report", world["run"]])[0] == 0
    assert run_cli(capsys, ["evaluate", world["run"]])[0] == 0
    assert (world["run"] / "report.html").is_file() and (world["run"] / "confusion.png").is_file()
