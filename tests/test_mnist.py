"""load_mnist / load_fashion_mnist / load_dataset: the book's layout, where files come from, the parsed cache.

Real-data tests (``realdata``) read MNIST through the ``mnist_dir`` fixture and check the issue's
numbers; the rest use tiny data sets built here.
"""

import gzip
import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from mnist_tiny import NAMES, finishes, make_fifo, tiny_payloads, tiny_spec, write_tiny

import nnlearn
from nnlearn.base.errors import InputTypeError
from nnlearn.datasets import (
    DATASETS,
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    DatasetError,
    DatasetWarning,
    class_names,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
)
from nnlearn.datasets import cache as cache_mod
from nnlearn.datasets.sources import cache_root, candidate_dirs, download_dir, find_files

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def _no_download(monkeypatch):
    monkeypatch.setenv("NNLEARN_MIRRORS", "")


def _raw(payload: bytes, offset: int) -> np.ndarray:
    return np.frombuffer(payload, np.uint8, offset=offset)


# --- the public names -------------------------------------------------------------------------


def test_public_names():
    assert DATASETS == ("mnist", "fashion-mnist")
    assert nnlearn.load_mnist is load_mnist and nnlearn.load_fashion_mnist is load_fashion_mnist
    assert nnlearn.DatasetError is DatasetError and nnlearn.load_dataset is load_dataset
    assert MNIST_CLASSES == tuple("0123456789") and class_names("mnist") == MNIST_CLASSES
    assert FASHION_MNIST_CLASSES[0] == "T-shirt/top" and FASHION_MNIST_CLASSES[9] == "Ankle boot"
    assert len(FASHION_MNIST_CLASSES) == 10


def test_unknown_dataset_and_bad_flags():
    with pytest.raises(DatasetError, match="unknown dataset 'cifar'; choose one of: mnist, fashion-mnist"):
        load_dataset("cifar")
    with pytest.raises(InputTypeError, match="normalize must be True or False, got 'yes'"):
        load_mnist(normalize="yes")
    with pytest.raises(InputTypeError, match="data_dir must be a folder's path .a str or a Path., got 3"):
        load_mnist(data_dir=3)


# --- where the files come from ----------------------------------------------------------------


def test_search_order(tmp_path, monkeypatch):
    spec = tiny_spec(tiny_payloads())
    monkeypatch.setenv("NNLEARN_DATA", str(tmp_path / "env"))
    assert candidate_dirs(spec, tmp_path / "arg") == [
        tmp_path / "arg" / "tiny",
        tmp_path / "arg",
        tmp_path / "env" / "tiny",
        tmp_path / "env",
        cache_root() / "tiny",
    ]
    assert cache_root() == Path(os.environ["XDG_CACHE_HOME"]) / "nnlearn"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert cache_root() == Path.home() / ".cache" / "nnlearn"


def test_each_source_is_found_and_earlier_ones_win(tmp_path, monkeypatch):
    payloads = tiny_payloads()
    spec = tiny_spec(payloads)
    monkeypatch.delenv("NNLEARN_DATA", raising=False)
    assert find_files(spec) is None
    write_tiny(download_dir(spec), payloads)
    assert find_files(spec)["train-images"].parent == download_dir(spec)
    write_tiny(tmp_path / "env" / "tiny", payloads)
    monkeypatch.setenv("NNLEARN_DATA", str(tmp_path / "env"))
    assert find_files(spec)["test-labels"].parent == tmp_path / "env" / "tiny"
    write_tiny(tmp_path / "arg", payloads)
    assert find_files(spec, tmp_path / "arg")["train-labels"].parent == tmp_path / "arg"
    # A folder missing one file is passed over.
    (tmp_path / "arg" / NAMES["test-images"]).unlink()
    assert find_files(spec, tmp_path / "arg")["train-labels"].parent == tmp_path / "env" / "tiny"


def test_uncompressed_files_are_accepted(tmp_path):
    payloads = tiny_payloads()
    spec = tiny_spec(payloads)
    for role, data in payloads.items():
        (tmp_path / NAMES[role][:-3]).write_bytes(data)
    (x, t), _ = load_dataset(spec, normalize=False, data_dir=tmp_path)
    np.testing.assert_array_equal(x, _raw(payloads["train-images"], 16).reshape(-1, 784))


def test_book_layout_for_every_flag_combination_on_tiny_data(tmp_path):
    payloads = tiny_payloads(n_train=12, n_test=5)
    spec = tiny_spec(payloads)
    write_tiny(tmp_path, payloads)
    raw_x = _raw(payloads["train-images"], 16).reshape(12, 784)
    raw_t = _raw(payloads["train-labels"], 8)
    for normalize in (False, True):
        for flatten in (False, True):
            for one_hot in (False, True):
                (x, t), (xt, tt) = load_dataset(
                    spec, normalize=normalize, flatten=flatten, one_hot_label=one_hot, data_dir=tmp_path
                )
                assert x.shape == ((12, 784) if flatten else (12, 1, 28, 28))
                assert xt.shape == ((5, 784) if flatten else (5, 1, 28, 28))
                assert x.dtype == (np.float32 if normalize else np.uint8)
                want = raw_x.astype(np.float32) / 255.0 if normalize else raw_x
                np.testing.assert_array_equal(x.reshape(12, 784), want)
                if one_hot:
                    assert t.shape == (12, 10) and tt.shape == (5, 10) and t.dtype == np.float32
                    np.testing.assert_array_equal(t, np.eye(10, dtype=np.float32)[raw_t])
                else:
                    assert t.shape == (12,) and t.dtype == np.uint8
                    np.testing.assert_array_equal(t, raw_t)


def test_wrong_local_file_is_refused_with_its_digest(tmp_path):
    payloads = tiny_payloads()
    spec = tiny_spec(payloads)
    write_tiny(tmp_path, {**payloads, "train-images": tiny_payloads(seed=5)["train-images"]})
    with pytest.raises(
        DatasetError,
        match=r"train-images-idx3-ubyte\.gz: not the TINY train-images file: "
        r"the SHA-256 of its decompressed content is [0-9a-f]{64}, expected",
    ):
        load_dataset(spec, data_dir=tmp_path)


def test_a_folder_of_another_data_set_is_passed_over(tmp_path, monkeypatch):
    # MNIST and Fashion-MNIST share file names: a folder holding one's files directly must not be
    # taken for the other's.
    mine, other = tiny_payloads(seed=0), tiny_payloads(seed=9)
    spec = tiny_spec(mine)
    write_tiny(tmp_path / "other", other)
    monkeypatch.setenv("NNLEARN_DATA", str(tmp_path / "other"))
    with pytest.raises(DatasetError, match=rf"passed over {tmp_path / 'other'}: its files are another data set's"):
        load_dataset(spec)
    write_tiny(download_dir(spec), mine)
    (x, _), _ = load_dataset(spec, normalize=False)
    np.testing.assert_array_equal(x, _raw(mine["train-images"], 16).reshape(-1, 784))


def test_label_out_of_range_and_mismatched_counts_are_refused(tmp_path):
    payloads = tiny_payloads()
    bad = dict(payloads)
    bad["train-labels"] = payloads["train-labels"][:-1] + b"\x0c"
    write_tiny(tmp_path / "a", bad)
    with pytest.raises(DatasetError, match=r"holds label 12 but TINY has classes 0\.\.9"):
        load_dataset(tiny_spec(bad), data_dir=tmp_path / "a")
    short = dict(payloads)
    short["test-labels"] = tiny_payloads(n_test=4)["test-labels"]
    write_tiny(tmp_path / "b", short)
    # Refused before any parsing: its test labels are not the spec's (a data set's files come with their counts).
    with pytest.raises(DatasetError, match=r"passed over .*b: its files are another data set's"):
        load_dataset(tiny_spec(payloads), data_dir=tmp_path / "b")


# --- the parsed cache -------------------------------------------------------------------------


def _entries():
    root = cache_mod.parsed_root()
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_warm_load_comes_from_the_cache_not_the_sources(tmp_path, monkeypatch):
    payloads = tiny_payloads()
    spec = tiny_spec(payloads)
    write_tiny(tmp_path, payloads)
    (x1, _), _ = load_dataset(spec, data_dir=tmp_path)
    [entry] = _entries()
    files = sorted(p.name for p in (cache_mod.parsed_root() / entry).iterdir())
    # Raw uint8 arrays and their digests; the float32 images are derived on each load, not stored.
    assert files == ["meta.json", "test-images.u8", "test-labels.u8", "train-images.u8", "train-labels.u8"]
    meta = json.loads((cache_mod.parsed_root() / entry / "meta.json").read_text())
    assert meta["sources"]["train-images"] == str((tmp_path / NAMES["train-images"]).resolve())
    assert (cache_mod.parsed_root() / entry / "train-labels.u8").read_bytes() == payloads["train-labels"][8:]

    def no_parsing(*a, **k):
        raise AssertionError("a warm load parsed the source files")

    monkeypatch.setattr(cache_mod, "read_checked", no_parsing)
    (x2, _), _ = load_dataset(spec, data_dir=tmp_path)
    np.testing.assert_array_equal(x1, x2)
    assert type(x2) is np.ndarray and x2.flags.writeable and x2.dtype == np.float32


def test_returned_arrays_are_writable_and_writes_stay_private(tmp_path):
    payloads = tiny_payloads()
    spec = tiny_spec(payloads)
    write_tiny(tmp_path, payloads)
    for _ in range(3):  # cold, first warm, steady warm
        (x, t), _ = load_dataset(spec, normalize=True, data_dir=tmp_path)
        x[:] = -1.0
        t[:] = 99
    (x, t), _ = load_dataset(spec, normalize=True, data_dir=tmp_path)
    np.testing.assert_array_equal(x, _raw(payloads["train-images"], 16).reshape(-1, 784) / np.float32(255))
    np.testing.assert_array_equal(t, _raw(payloads["train-labels"], 8))


def test_changed_source_rebuilds_the_cache_and_drops_the_old_one(tmp_path):
    old, new = tiny_payloads(seed=0), tiny_payloads(seed=3)
    write_tiny(tmp_path, old)
    load_dataset(tiny_spec(old), data_dir=tmp_path)
    [first] = _entries()
    write_tiny(tmp_path, new)
    (x, _), _ = load_dataset(tiny_spec(new), normalize=False, data_dir=tmp_path)
    np.testing.assert_array_equal(x, _raw(new["train-images"], 16).reshape(-1, 784))
    [second] = _entries()
    assert second != first


def _damage(path: Path, how: str) -> None:
    if how == "fifo":
        path.unlink()
        make_fifo(path)
        return
    data = bytearray(path.read_bytes())
    if how == "flip":
        data[100] ^= 0x01
    elif how == "label 200":
        data[3] = 200
    elif how == "ff":
        data[16:20] = b"\xff" * 4
    elif how == "empty":
        data = bytearray()
    elif how == "short":
        data = data[:200]
    path.write_bytes(bytes(data))


DAMAGE = {  # (file, how): what the load would have returned from the damaged cache before
    ("train-images.u8", "flip"): "one pixel off by one",
    ("test-labels.u8", "label 200"): "label 200",
    ("test-images.u8", "ff"): "four bytes of 0xFF",
    ("train-images.u8", "empty"): "an EOFError traceback (zero-length file)",
    ("train-images.u8", "short"): "a truncated array",
    ("train-labels.u8", "fifo"): "a load that waits forever",
}


@pytest.mark.parametrize("edit", ["shapes", "nested", "fifo", "removed"])
def test_a_load_never_reads_the_cache_folders_meta_json(tmp_path, edit):
    payloads = tiny_payloads()
    spec = tiny_spec(payloads)
    write_tiny(tmp_path, payloads)
    load_dataset(spec, data_dir=tmp_path)
    [entry] = _entries()
    meta_path = cache_mod.parsed_root() / entry / "meta.json"
    # Once a MemoryError (10**9 images), test labels of shape (1, 5), a RecursionError, a load waiting forever.
    if edit == "shapes":
        meta_path.write_text(json.dumps({"shapes": {"train-images": [10**9, 28, 28], "test-labels": [1, 5]}}))
    elif edit == "nested":
        meta_path.write_text("[" * 30_000)
    else:
        meta_path.unlink()
        if edit == "fifo":
            make_fifo(meta_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x, _t), (_xt, tt) = finishes(
            lambda: load_dataset(spec, normalize=False, flatten=False, data_dir=tmp_path), [meta_path]
        )
    assert x.shape == (spec.file("train-images").shape[0], 1, 28, 28)
    assert tt.shape == spec.file("test-labels").shape
    np.testing.assert_array_equal(tt, _raw(payloads["test-labels"], 8))
    assert _entries() == [entry]


@pytest.mark.parametrize("name,how", sorted(DAMAGE))
def test_damaged_cache_is_never_returned_and_is_rebuilt(tmp_path, name, how):
    payloads = tiny_payloads()
    spec = tiny_spec(payloads)
    write_tiny(tmp_path, payloads)
    load_dataset(spec, data_dir=tmp_path)
    [entry] = _entries()
    _damage(cache_mod.parsed_root() / entry / name, how)
    damaged = cache_mod.parsed_root() / entry / name
    for normalize in (False, True):
        with pytest.warns(DatasetWarning, match=rf"the parsed cache .*{entry} was damaged \(.*\); rebuilding it"):
            (x, t), (xt, tt) = finishes(lambda: load_dataset(spec, normalize=normalize, data_dir=tmp_path), [damaged])
        want = _raw(payloads["train-images"], 16).reshape(-1, 784)
        np.testing.assert_array_equal(x, want / np.float32(255) if normalize else want)
        np.testing.assert_array_equal(
            xt.reshape(-1)[:4] * (255 if normalize else 1), _raw(payloads["test-images"], 16)[:4]
        )
        np.testing.assert_array_equal(tt, _raw(payloads["test-labels"], 8))
        _damage(cache_mod.parsed_root() / entry / name, how)  # damaged again for the next round
    assert _entries() == [entry]


def test_damaged_cache_with_its_sources_gone_is_a_one_line_error(tmp_path):
    payloads = tiny_payloads()
    spec = tiny_spec(payloads)
    write_tiny(tmp_path, payloads)
    paths = {role: tmp_path / NAMES[role] for role in NAMES}
    cache_mod.load_arrays(spec, paths)
    [entry] = _entries()
    _damage(cache_mod.parsed_root() / entry / "test-labels.u8", "label 200")
    (tmp_path / NAMES["train-labels"]).unlink()
    with pytest.raises(DatasetError) as info:
        cache_mod.load_arrays(spec, paths)
    assert str(info.value) == (
        f"{tmp_path / NAMES['train-labels']}: cannot be read (No such file or directory); put the TINY files "
        "back, or get them again: `nnlearn data download --dataset tiny` (or `nnlearn data import FOLDER`)"
    )


def test_unwritable_cache_folder_still_loads(tmp_path, monkeypatch):
    payloads = tiny_payloads()
    spec = tiny_spec(payloads)
    write_tiny(tmp_path / "data", payloads)
    blocked = tmp_path / "xdg"
    blocked.mkdir()
    (blocked / "nnlearn").write_text("a file where the cache folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    (x, t), _ = load_dataset(spec, data_dir=tmp_path / "data")
    np.testing.assert_array_equal(x, _raw(payloads["train-images"], 16).reshape(-1, 784) / np.float32(255))
    assert x.flags.writeable


def test_normalize_images_is_the_books_computation():
    u8 = np.arange(256, dtype=np.uint8)
    book = u8.astype(np.float32)
    book /= 255.0
    got = cache_mod.normalize_images(u8)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, book)
    assert got[0] == 0.0 and got[255] == 1.0


# --- real MNIST -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_cache(tmp_path_factory):
    """One cache folder for this module's real-data tests, so MNIST is parsed once."""
    return tmp_path_factory.mktemp("real-xdg")


@pytest.fixture
def real(mnist_dir, real_cache, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(real_cache))
    return mnist_dir


@pytest.fixture(scope="module")
def oracle(mnist_dir):
    """MNIST parsed the plain way: gzip + numpy.frombuffer, as the book's loader does."""

    def read(name, offset):
        with gzip.open(mnist_dir / name, "rb") as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)

    return {
        "x_train": read("train-images-idx3-ubyte.gz", 16).reshape(-1, 784),
        "t_train": read("train-labels-idx1-ubyte.gz", 8),
        "x_test": read("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784),
        "t_test": read("t10k-labels-idx1-ubyte.gz", 8),
    }


@pytest.mark.realdata
def test_real_mnist_counts_and_pixel_sums(real):
    (x, t), (xt, tt) = load_mnist(normalize=False, data_dir=real)
    assert np.bincount(t, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(tt, minlength=10).tolist() == TEST_COUNTS
    assert int(x.sum(dtype=np.int64)) == 1567298545
    assert int(xt.sum(dtype=np.int64)) == 264923200


@pytest.mark.realdata
# Every pair of the three options' values, in four loads rather than eight: each option works alone.
@pytest.mark.parametrize(
    "normalize, flatten, one_hot_label",
    [(True, True, True), (True, False, False), (False, True, False), (False, False, True)],
)
def test_real_mnist_shapes_and_dtypes(real, oracle, normalize, flatten, one_hot_label):
    (x, t), (xt, tt) = load_mnist(normalize=normalize, flatten=flatten, one_hot_label=one_hot_label, data_dir=real)
    assert x.shape == ((60000, 784) if flatten else (60000, 1, 28, 28))
    assert xt.shape == ((10000, 784) if flatten else (10000, 1, 28, 28))
    assert x.dtype == xt.dtype == (np.float32 if normalize else np.uint8)
    if one_hot_label:
        assert t.shape == (60000, 10) and tt.shape == (10000, 10) and t.dtype == np.float32
        np.testing.assert_array_equal(t.argmax(axis=1), oracle["t_train"])
        assert t.sum() == 60000.0 and tt.sum() == 10000.0
    else:
        assert t.shape == (60000,) and tt.shape == (10000,) and t.dtype == np.uint8
        np.testing.assert_array_equal(tt, oracle["t_test"])
    if normalize:
        assert float(x.min()) == 0.0 and float(x.max()) == 1.0
        book = oracle["x_test"].astype(np.float32)
        book /= 255.0
        np.testing.assert_array_equal(xt.reshape(10000, 784), book)
    else:
        np.testing.assert_array_equal(x.reshape(60000, 784), oracle["x_train"])


@pytest.mark.realdata
def test_real_mnist_found_through_nnlearn_data(real, oracle, monkeypatch):
    monkeypatch.setenv("NNLEARN_DATA", str(real.parent))
    (x, t), _ = load_mnist(normalize=False)
    np.testing.assert_array_equal(t, oracle["t_train"])
    # The sources are read-only in CI; the cache went to the (writable) cache folder.
    [entry] = [p for p in cache_mod.parsed_root().iterdir() if p.name.startswith("mnist-")]
    assert json.loads((entry / "meta.json").read_text())["sources"]["test-labels"] == str(
        (real / "t10k-labels-idx1-ubyte.gz").resolve()
    )


@pytest.mark.slow
@pytest.mark.realdata
def test_two_processes_loading_at_once_share_one_cache(mnist_dir, tmp_path):
    script = textwrap.dedent(f"""
        import numpy as np
        from nnlearn import load_mnist
        for normalize in (False, True, True):
            (x, t), (xt, tt) = load_mnist(normalize=normalize, data_dir={str(mnist_dir)!r})
        print(int((x * 255).round().sum(dtype=np.float64)), int(np.bincount(tt)[1]))
    """)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert out.split() == ["1567298545", "1135"]
    parsed = tmp_path / "xdg" / "nnlearn" / "parsed"
    [entry] = list(parsed.iterdir())  # one folder, no temporary leftovers
    assert sorted(p.name for p in entry.iterdir()) == [
        "meta.json",
        "test-images.u8",
        "test-labels.u8",
        "train-images.u8",
        "train-labels.u8",
    ]
    assert not [p for p in entry.iterdir() if p.name.startswith(".")]


@pytest.mark.realdata
def test_real_mnist_examples_minibatch_script(mnist_dir, tmp_path, monkeypatch):
    script = Path(__file__).resolve().parent.parent / "examples" / "minibatch.py"
    env = dict(os.environ, NNLEARN_DATA=str(mnist_dir.parent))
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "(60000, 784)" in proc.stdout and "(60000, 10)" in proc.stdout
    assert "(10, 784) (10, 10)" in proc.stdout


# --- real Fashion-MNIST (Debian's dataset-fashion-mnist; absent in CI) --------------------------


@pytest.mark.realdata
@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_from_the_distribution_copy(monkeypatch):
    monkeypatch.delenv("NNLEARN_DATA", raising=False)
    (x, t), (xt, tt) = load_fashion_mnist(normalize=False)  # found in /usr/share/datasets, digests checked
    assert x.shape == (60000, 784) and xt.shape == (10000, 784) and x.dtype == np.uint8
    assert np.bincount(t).tolist() == [6000] * 10
    assert np.bincount(tt).tolist() == [1000] * 10
