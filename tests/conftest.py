"""Shared fixtures.

Real-data tests ask for ``mnist_dir``. It comes from ``NNLEARN_DATA`` (a folder holding ``mnist/``).
Without it they skip -- unless ``NNLEARN_REQUIRE_DATA=1`` (set by ``.ci/run``), when a missing data
folder is a failure: in CI real-data tests must run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

# The browser tests' fixtures (tests/browser.py), declared once here: a test module declaring them
# again made pytest warn that it could no longer rewrite that module's asserts.
pytest_plugins = ["browser"]

# Python's bytecode cache stays on for the tests, even where PYTHONDONTWRITEBYTECODE=1 (as container
# images often set): the suite imports nnlearn in each worker and in dozens of child processes, and
# compiling it again in every one cost about a tenth of the suite's time. Caches go to __pycache__,
# which git ignores.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# The tests read nnlearn's messages in English whatever the machine's locale (LANG=zh_CN.UTF-8 would
# make every command speak Chinese); tests of the other languages ask for them (--lang, environ=).
os.environ["NNLEARN_LANG"] = "en"


def _hypothesis_home(config) -> None:
    """Hypothesis keeps its examples and the constants it finds in our modules in pytest's cache
    folder (.pytest_cache, which git ignores), not in ./.hypothesis: kept between runs, the constants
    are not looked for again in every worker (half a second each). Without pytest's cache
    (``-p no:cacheprovider``, a read-only checkout) it uses a temporary folder, removed at exit."""
    try:
        from hypothesis import configuration
    except ImportError:  # pragma: no cover - hypothesis is in the test extra
        return
    cache = getattr(config, "cache", None)
    if cache is not None:
        home = cache.mkdir("hypothesis")
    else:
        import atexit
        import shutil
        import tempfile

        home = tempfile.mkdtemp(prefix="nnlearn-hypothesis-")
        atexit.register(shutil.rmtree, home, ignore_errors=True)
    configuration.set_hypothesis_home_dir(home)
    # HYPOTHESIS_PROFILE=ci (.ci/run sets it) draws the same examples every run: a counterexample found
    # at random on a developer's machine becomes an @example there, and CI never turns red by the luck of a draw.
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, database=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config):
    _hypothesis_home(config)
    # One BLAS thread unless a test asks otherwise: a run's numbers are promised for its thread count
    # only, and the count chosen from the free cores (with a line saying so) depends on the machine's
    # load. The tests of that rule clear it (tests/test_threads.py).
    os.environ["NNLEARN_THREADS"] = "1"
    # A relative NNLEARN_DATA (the README's ../shared/datasets) must keep meaning the same folder in
    # tests that change directory or start processes elsewhere.
    if os.environ.get("NNLEARN_DATA"):
        os.environ["NNLEARN_DATA"] = os.pathsep.join(
            str(Path(part).resolve()) for part in os.environ["NNLEARN_DATA"].split(os.pathsep) if part
        )


@pytest.hookimpl(tryfirst=True)  # before pytest's own -m selection reads the markers
def pytest_collection_modifyitems(config, items):
    """Every test in Chromium is also ``slow``: the browser costs each process that runs one a start
    (1.5 s) and every page a load, some 6 s of the quick suite's 60; ``pytest -m slow`` runs them."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)


MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _real_data_dir(name: str) -> Path:
    root = os.environ.get("NNLEARN_DATA")
    candidates = [Path(root) / name, Path(root)] if root else []
    for folder in candidates:
        if all((folder / f).exists() for f in MNIST_FILES):
            return folder
    message = f"real {name} files not found: set NNLEARN_DATA to a folder holding {name}/"
    if os.environ.get("NNLEARN_REQUIRE_DATA") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder holding the four real MNIST files."""
    return _real_data_dir("mnist")


@pytest.fixture(scope="session")
def short_run(tmp_path_factory, mnist_dir):
    """A real run directory, made once: the strong recipe's network trained for one epoch on MNIST
    (about 3 s, 96.6 %). The board, the report and the recipe's own test share it."""
    from nnlearn.cli import main

    runs = tmp_path_factory.mktemp("runs")
    run = runs / "short"
    assert (
        main(
            [
                "train",
                "--recipe",
                "strong",
                "--epochs",
                "1",
                "--out",
                str(run),
                "--data-dir",
                str(mnist_dir.parent),
                "--no-progress",
            ]
        )
        == 0
    )
    return run


#: Test modules that look into the cache folder: each of their tests gets a cache of its own.
CACHE_MODULES = ("test_mnist", "test_data_fixes", "test_cli_data", "test_download", "test_idx")


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache-shared")


@pytest.fixture(autouse=True)
def _isolated_cache(request, tmp_path_factory, monkeypatch):
    """Keep every test away from the user's real cache folder and from the real MNIST mirrors.

    Tests share one cache folder of the session, so that real MNIST is parsed once (0.4-0.6 s for
    each test that reads it otherwise, also those that only reach it through NNLEARN_DATA, as a
    report of a run does); the tests of the cache itself get a folder each. Download tests point
    ``NNLEARN_MIRRORS`` at a server on 127.0.0.1 that they start themselves.
    """
    shared = request.module.__name__.split(".")[-1] not in CACHE_MODULES
    folder = request.getfixturevalue("_session_cache") if shared else tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    monkeypatch.setenv("NNLEARN_MIRRORS", "")


@pytest.fixture
def fake_data(monkeypatch):
    """``load_dataset`` answers with a small synthetic MNIST; returns ``(data, calls)``."""
    from mnist_tiny import synthetic_mnist

    import nnlearn.datasets

    data = synthetic_mnist()
    calls = []

    def load_dataset(name, *, normalize=True, flatten=True, one_hot_label=False, data_dir=None):
        calls.append((name, data_dir))
        assert normalize and flatten and not one_hot_label
        return data

    monkeypatch.setattr(nnlearn.datasets, "load_dataset", load_dataset)
    return data, calls


@pytest.fixture(scope="session")
def fast_run(tmp_path_factory):
    """A run trained once with ``FAST_TRAIN`` on the synthetic digits (what ``fake_data`` serves), to
    be read, never changed: a test that changes a run takes a copy (``trained``)."""
    from mnist_tiny import FAST_TRAIN, synthetic_mnist

    import nnlearn.datasets
    from nnlearn.cli import main

    data = synthetic_mnist()
    run = tmp_path_factory.mktemp("fast") / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nnlearn.datasets, "load_dataset", lambda name, **options: data)
        assert main(["train", "--out", str(run), *FAST_TRAIN]) == 0
    return run


@pytest.fixture
def trained(fast_run, tmp_path) -> Path:
    """A copy of ``fast_run`` in ``tmp_path / "run"``, this test's own."""
    import shutil

    return Path(shutil.copytree(fast_run, tmp_path / "run"))
