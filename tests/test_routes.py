"""nnlearn demo routes: a rule, hand-made features + classic ML, and a network on the same test set."""

import importlib.util
import re

import numpy as np
import pytest

from nnlearn.cli import main
from nnlearn.datasets import load_mnist
from nnlearn.see import routes


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_mnist(normalize=True, data_dir=mnist_dir)


def test_without_the_classic_extra_it_says_how_to_install(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a))
    assert main(["demo", "routes", "--train-size", "100"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "scikit-learn" in err and "pip install 'nnlearn[classic]'" in err


def test_train_size_is_validated(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "routes", "--train-size", "5"])
    assert exc.value.code == 2
    assert "argument --train-size: must be a whole number >= 10, got '5'" in capsys.readouterr().err


def test_template_route_on_separable_data():
    rng = np.random.default_rng(0)
    centres = rng.random((10, 784))
    labels = rng.integers(0, 10, 400)
    x = centres[labels] + 0.05 * rng.standard_normal((400, 784))
    r = routes.template_route(x[:300], labels[:300], x[300:], labels[300:])
    assert r.accuracy == 1.0 and r.predictions.shape == (100,)


@pytest.mark.slow
@pytest.mark.realdata
def test_same_seed_same_table(mnist):
    (x, t), (xt, tt) = mnist
    runs = [routes.run_routes(x[:200], t[:200], xt[:200], tt[:200], seed=3, progress=False) for _ in range(2)]
    for a, b in zip(*runs):
        assert a.name == b.name and a.accuracy == b.accuracy
        assert np.array_equal(a.predictions, b.predictions)


@pytest.mark.realdata
@pytest.mark.slow
def test_demo_routes_on_1000_images(mnist_dir, tmp_path, capsys):
    out = tmp_path / "routes"
    assert (
        main(
            [
                "demo",
                "routes",
                "--train-size",
                "1000",
                "--test-size",
                "1000",
                "--data-dir",
                str(mnist_dir),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    rows = re.findall(r"^(.+?)\s+(\d+\.\d\d)%\s+(\d+\.\d\d)\s+(\d+\.\d\d)$", text, flags=re.M)
    names = [name for name, *_ in rows]
    assert len(rows) == 5
    assert names[0].startswith("rule") and names[-1].startswith("network")
    assert any("SVM" in n for n in names) and sum("KNN" in n for n in names) == 2
    for name, acc, *_ in rows:
        assert float(acc) > 75.0, name  # chance is 10 %
    for png in ("routes_accuracy.png", "routes_mistakes.png"):
        data = (out / png).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000


def test_the_accuracy_figures_title_lies_within_the_figure():
    results = [
        routes.RouteResult(name, acc, 0.0, 0.0, np.zeros(1))
        for name, acc in (
            ("rule: nearest average digit", 0.8203),
            ("HOG features + linear SVM", 0.9832),
            ("network end to end (strong recipe)", 0.9841),
        )
    ]
    fig = routes.plot_accuracy(results, 60000, 10000)
    fig.canvas.draw()
    box = fig.texts[0].get_window_extent()  # the title
    assert "60,000 images" in fig.texts[0].get_text()  # the longest title, whole inside the figure:
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height
