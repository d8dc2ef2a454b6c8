"""The data commands on a tiny data set registered as "mnist": cache checks, import, paths, show -> predict."""

import json
import warnings

import numpy as np
import pytest
from mnist_tiny import NAMES, finishes, idx_bytes, make_fifo, tiny_arrays, tiny_spec, write_tiny
from PIL import Image

from nnlearn.cli import main
from nnlearn.datasets import DATASETS, load_dataset
from nnlearn.datasets import cache as cache_mod
from nnlearn.datasets import mnist as mnist_mod
from nnlearn.see.images import ImageWarning, image_to_input


def _digit_arrays():
    arrays = tiny_arrays()
    digit = np.zeros((28, 28), dtype=np.uint8)
    digit[6:22, 12:16] = 255  # a "1"
    digit[6:9, 9:12] = 180
    arrays["test-images"][0] = digit
    return arrays


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """Tiny files in tmp_path/src, known to nnlearn as the "mnist" data set."""
    arrays = _digit_arrays()
    payloads = {role: idx_bytes(a) for role, a in arrays.items()}
    monkeypatch.setitem(mnist_mod.SPECS, "mnist", tiny_spec(payloads, name="mnist"))
    monkeypatch.delenv("NNLEARN_DATA", raising=False)
    return write_tiny(tmp_path / "src", payloads), arrays


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_verify_checks_the_parsed_cache_too(tiny, capsys):
    folder, arrays = tiny
    load_dataset("mnist", data_dir=folder)
    [entry] = cache_mod.parsed_root().iterdir()
    raw = bytearray((entry / "test-labels.u8").read_bytes())
    raw[0] = 200
    (entry / "test-labels.u8").write_bytes(bytes(raw))
    code, out, _ = _run(capsys, "data", "verify", "--data-dir", str(folder))
    lines = out.splitlines()
    assert code == 1
    assert lines[4] == (
        f"FAIL parsed cache {entry}: damaged (test-labels.u8 does not match its SHA-256); removed, "
        "the next load rebuilds it from the verified files"
    )
    assert not entry.exists()
    code, out, _ = _run(capsys, "data", "verify", "--data-dir", str(folder))
    assert code == 0 and out.splitlines()[4] == f"OK   parsed cache {entry}: not built yet (the next load builds it)"
    _, (_, t_test) = load_dataset("mnist", data_dir=folder)
    np.testing.assert_array_equal(t_test, arrays["test-labels"])


def test_info_after_the_cache_meta_was_edited_shows_the_true_shapes(tiny, capsys):
    folder, _ = tiny
    load_dataset("mnist", data_dir=folder)
    [entry] = cache_mod.parsed_root().iterdir()
    meta = json.loads((entry / "meta.json").read_text())
    meta["shapes"] = {"train-labels": [6, 2]}  # the same 12 bytes, so the same digest: ignored, never read
    (entry / "meta.json").write_text(json.dumps(meta))
    code, out, err = _run(capsys, "data", "info", "--data-dir", str(folder))
    assert (code, err) == (0, "")
    assert "train: images (12, 28, 28) uint8, labels (12,) uint8" in out.splitlines()


def test_one_missing_file_and_a_folder_in_place_of_a_file_are_named(tiny, capsys):
    folder, _ = tiny
    (folder / NAMES["test-labels"]).unlink()
    (folder / NAMES["train-labels"]).unlink()
    (folder / NAMES["train-labels"]).mkdir()
    code, out, _ = _run(capsys, "data", "verify", "--data-dir", str(folder))
    lines = out.splitlines()
    assert code == 1
    assert lines[1].startswith(f"FAIL train-labels-idx1-ubyte.gz: {folder / NAMES['train-labels']} is a folder")
    assert lines[3] == f"FAIL t10k-labels-idx1-ubyte.gz: missing from {folder}"
    code, _, err = _run(capsys, "data", "info", "--data-dir", str(folder))
    # the folder in the way is the error itself: one line, never a search of other folders
    assert (code, err) == (
        1,
        f"nnlearn: error: the data file {folder / NAMES['train-labels']} is a folder, not a "
        "regular file; put the data file itself there, or pass another --data-dir\n",
    )


def test_a_fifo_in_the_data_folder_is_refused_never_read(tiny, capsys):
    folder, _ = tiny
    fifo = folder / NAMES["train-labels"]
    fifo.unlink()
    make_fifo(fifo)
    refused = f"{fifo} is a FIFO (named pipe), not a regular file; nnlearn reads only regular files"
    code, out, _ = finishes(lambda: _run(capsys, "data", "verify", "--data-dir", str(folder)), [fifo])
    assert code == 1
    assert out.splitlines()[1] == f"FAIL train-labels-idx1-ubyte.gz: {refused}"
    code, _, err = finishes(lambda: _run(capsys, "data", "import", str(folder)), [fifo])
    assert code == 1
    assert err.splitlines()[1:] == [f"  train-labels-idx1-ubyte.gz: {refused}"]
    code, _, err = finishes(lambda: _run(capsys, "data", "info", "--data-dir", str(folder)), [fifo])
    assert (code, err) == (
        1,
        f"nnlearn: error: the data file {fifo} is a FIFO (named pipe), not a regular file; "
        "put the data file itself there, or pass another --data-dir\n",
    )


@pytest.mark.parametrize("bad", ["fifo", "device", "folder", "broken link", "link loop"])
def test_a_bad_file_in_data_dir_is_an_error_never_a_fallback_to_nnlearn_data(tiny, capsys, tmp_path, monkeypatch, bad):
    import os

    folder, _ = tiny
    good = write_tiny(tmp_path / "env", {role: idx_bytes(a) for role, a in _digit_arrays().items()})
    monkeypatch.setenv("NNLEARN_DATA", str(good))  # a complete copy elsewhere: it was read instead, silently
    path = folder / NAMES["test-images"]
    path.unlink()
    if bad == "fifo":
        make_fifo(path)
    elif bad == "device":
        path.symlink_to("/dev/zero")
    elif bad == "folder":
        path.mkdir()
    elif bad == "broken link":
        path.symlink_to(tmp_path / "nowhere")
    else:
        path.symlink_to(path)
    run = tmp_path / "run"
    train = [
        "train",
        "--iters",
        "2",
        "--batch-size",
        "4",
        "--no-progress",
        "--data-dir",
        str(folder),
        "--out",
        str(run),
    ]
    code, out, err = finishes(lambda: _run(capsys, *train), [path])
    assert code == 1 and not run.exists(), out
    assert len(err.splitlines()) == 1 and err.startswith(f"nnlearn: error: the data file {path} "), err
    assert err.rstrip().endswith("put the data file itself there, or pass another --data-dir"), err
    kind = {
        "fifo": "is a FIFO",
        "device": "is a device",
        "folder": "is a folder",
        "broken link": "No such file",
        "link loop": "Too many levels of symbolic links",
    }[bad]
    assert kind in err, err
    if bad != "fifo":
        return  # the rest once: the same folder without the bad file trains on it, and config.json says so
    os.unlink(path)
    write_tiny(folder, {role: idx_bytes(a) for role, a in _digit_arrays().items()})
    code, _, err = _run(capsys, *train)
    assert code == 0, err
    assert json.loads((run / "config.json").read_text())["data_dir"] == str(folder.resolve())


def test_a_data_dir_that_does_not_exist_is_an_error_of_its_own(tiny, capsys, tmp_path):
    code, out, err = _run(capsys, "data", "info", "--data-dir", str(tmp_path / "typo"))
    assert (code, out) == (1, "")
    assert err == (
        f"nnlearn: error: the data folder {tmp_path / 'typo'} does not exist (--data-dir, or data_dir= "
        "in Python); check the path\n"
    )


def test_import_registers_a_local_copy_for_every_later_load(tiny, capsys, tmp_path):
    folder, arrays = tiny
    with pytest.raises(Exception, match="MNIST files not found"):
        load_dataset("mnist")
    code, out, _ = _run(capsys, "data", "import", str(folder))
    assert code == 0
    assert out.splitlines()[-1].startswith("MNIST: all 4 files verified and in ")
    (x, _), _ = load_dataset("mnist", normalize=False)  # offline, no data_dir, no NNLEARN_DATA
    np.testing.assert_array_equal(x, arrays["train-images"].reshape(-1, 784))
    code, out, _ = _run(capsys, "data", "import", str(folder))
    assert code == 0 and out.count("already in") == 4
    bad = write_tiny(tmp_path / "bad", {r: idx_bytes(a) for r, a in tiny_arrays(seed=4).items()})
    code, _, err = _run(capsys, "data", "import", str(bad))
    assert code == 1
    assert err.splitlines()[0] == f"nnlearn: error: MNIST: not imported, 4 of 4 files missing or wrong in {bad}"
    assert err.splitlines()[1].startswith(f"  train-images-idx3-ubyte.gz: {bad / NAMES['train-images']}: not the MNIST")


def test_show_writes_the_image_predict_reads_back_exactly(tiny, capsys, tmp_path):
    folder, arrays = tiny
    png = tmp_path / "digit.png"
    code, out, _ = _run(
        capsys, "data", "show", "--out", str(png), "--figure", str(tmp_path / "fig.png"), "--data-dir", str(folder)
    )
    assert code == 0 and out.splitlines()[0] == "MNIST test[0]: label %d" % arrays["test-labels"][0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x, inverted = image_to_input(png)
    np.testing.assert_array_equal(x, arrays["test-images"][0].reshape(-1) / np.float32(255))
    assert not inverted
    # The figure (title, margins) is for people; given to predict, it gives a clear warning.
    with pytest.warns(ImageWarning) as caught:
        image_to_input(tmp_path / "fig.png")
    [w] = caught
    assert str(w.message).startswith(f"{tmp_path / 'fig.png'} does not look like one digit on a plain background (")


def test_show_writes_the_format_its_suffix_names_and_refuses_bad_paths(tiny, capsys, tmp_path):
    folder, _ = tiny
    code, _, _ = _run(capsys, "data", "show", "--out", str(tmp_path / "d.jpg"), "--data-dir", str(folder))
    with Image.open(tmp_path / "d.jpg") as im:
        assert (code, im.format, im.size) == (0, "JPEG", (28, 28))
    for out, message in [
        (tmp_path / "d.xyz", f"{tmp_path / 'd.xyz'}: unknown image type '.xyz'; name the file .png"),
        (tmp_path, f"{tmp_path} is a folder; give a file name, e.g. {tmp_path / 'digit.png'}"),
        ("/proc/x.png", "cannot write /proc/x.png: "),
        (
            tmp_path / "no" / "x.png",
            f"cannot write {tmp_path / 'no' / 'x.png'}: the folder {tmp_path / 'no'} does not exist",
        ),
    ]:
        code, out_text, err = _run(capsys, "data", "show", "--out", str(out), "--data-dir", str(folder))
        assert code == 1 and err.startswith(f"nnlearn: error: {message}") and err.count("\n") == 1, err


def test_demo_minibatch_writes_its_figure_and_validates_first(tiny, capsys, tmp_path):
    folder, _ = tiny
    code, out, _ = _run(
        capsys, "demo", "minibatch", "--batch-size", "3", "--out", str(tmp_path / "figs"), "--data-dir", str(folder)
    )
    assert code == 0 and out.splitlines()[-1] == f"  wrote {tmp_path / 'figs' / 'minibatch.png'}"
    with Image.open(tmp_path / "figs" / "minibatch.png") as im:
        assert im.format == "PNG"
    with pytest.raises(SystemExit) as info:
        main(["demo", "minibatch", "--batch-size", "0", "--data-dir", str(folder)])
    out, err = capsys.readouterr()
    assert info.value.code == 2 and out == ""
    assert "argument --batch-size: must be a whole number >= 1, got '0'" in err


def test_add_data_args_takes_its_choices_from_datasets(capsys):
    import argparse

    from nnlearn.cli._args import add_data_args

    p = argparse.ArgumentParser(prog="x")
    add_data_args(p)
    assert vars(p.parse_args([])) == {"dataset": None, "data_dir": None}
    assert p.parse_args(["--dataset", DATASETS[-1], "--data-dir", "d"]).dataset == "fashion-mnist"
    with pytest.raises(SystemExit):
        p.parse_args(["--dataset", "cifar"])
    assert "invalid choice: 'cifar' (choose from " + ", ".join(repr(d) for d in DATASETS) in capsys.readouterr().err


def test_the_data_folder_recorded_is_the_one_read(tiny, capsys, tmp_path, monkeypatch):
    # --data-dir lacking a file: the files are read from NNLEARN_DATA, and config.json said --data-dir
    folder, _ = tiny
    arrays = {role: idx_bytes(a) for role, a in _digit_arrays().items()}
    env = write_tiny(tmp_path / "env", arrays)
    monkeypatch.setenv("NNLEARN_DATA", str(env))
    (folder / NAMES["test-labels"]).unlink()
    train = ["train", "--iters", "2", "--batch-size", "4", "--no-progress", "--data-dir"]
    code, _, err = _run(capsys, *train, str(folder), "--out", str(tmp_path / "a"))
    assert code == 0, err
    assert json.loads((tmp_path / "a" / "config.json").read_text())["data_dir"] == str(env.resolve())
    sub = write_tiny(tmp_path / "mine" / "mnist", arrays)  # a DATASET/ sub-folder: that one is read
    code, _, err = _run(capsys, *train, str(sub.parent), "--out", str(tmp_path / "b"))
    assert code == 0, err
    assert json.loads((tmp_path / "b" / "config.json").read_text())["data_dir"] == str(sub.resolve())
    code, out, err = _run(capsys, "evaluate", str(tmp_path / "b"), "--out", str(tmp_path / "confusion.png"))
    assert code == 0 and "test accuracy" in out, err
