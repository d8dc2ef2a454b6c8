import re
import subprocess
import sys

import pytest

from nnlearn.cli import main

EXPECTED_LINES = [
    "mean_squared_error(y, t)  = 0.09750000000000003",
    "cross_entropy_error(y, t) = 0.510825457099338",
    "mean_squared_error(y, t)  = 0.5975",
    "cross_entropy_error(y, t) = 2.302584092994546",
    "mean_squared_error  = 0.09250000000000003",
    "cross_entropy_error = 4.835428635287499",
    "numerical_diff(function_1, 5) = 0.1999999999990898",
    "numerical_diff(function_1, 10) = 0.2999999999986347",
    "forward difference with h=10e-50: 0.0",
    "numpy.float32(1e-50) == 0.0: True",
    "df/dx0 = 6.00000000000378",
    "df/dx1 = 7.999999999999119",
    "[6.00000000000378, 7.999999999999119]",
    "lr=0.1: [-6.11110793e-10  8.14814391e-10]",
    "lr=10: [-2.58983747e+13 -1.29524862e+12]",
    "lr=1e-10: [-2.99999994  3.99999992]",
]
FIGURES = ["tangent.png", "surface.png", "gradient_field.png", "descent_path.png"]


@pytest.mark.slow
def test_demo_all_prints_every_number_and_writes_the_figures(tmp_path, capsys):
    assert main(["demo", "all", "--out", str(tmp_path / "figs")]) == 0
    out = capsys.readouterr().out
    for line in EXPECTED_LINES:
        assert line in out
    for name in FIGURES:
        data = (tmp_path / "figs" / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
    # The rounding lesson is one of its sections, in the chapter's order: after the numerical
    # derivative, before partial derivatives.
    assert (tmp_path / "figs" / "rounding.png").read_bytes().startswith(b"\x89PNG")
    headers = [line for line in out.splitlines() if line.startswith("== ")]
    assert [h.split()[1] for h in headers] == ["4.2", "4.3.1-4.3.2", "Rounding", "4.3.3", "4.4", "4.4.1"]
    assert "1e-04      |  1.0e-06   9.1e-13   2.8e-17" in out


#: Each section's lines of EXPECTED_LINES (the quick suite checks every number; `demo all`, slow, checks them again).
SECTION_LINES = {
    "losses": EXPECTED_LINES[:6],
    "derivative": EXPECTED_LINES[6:10],
    "partial": EXPECTED_LINES[10:12],
    "gradient": EXPECTED_LINES[12:13],
    "descent": EXPECTED_LINES[13:],
}


@pytest.mark.parametrize("section, figure", list(zip(["derivative", "partial", "gradient", "descent"], FIGURES)))
def test_each_section_prints_the_books_numbers_and_writes_its_figure(section, figure, tmp_path, capsys):
    assert main(["demo", section, "--out", str(tmp_path)]) == 0
    assert (tmp_path / figure).exists()
    out = capsys.readouterr().out
    assert [line for line in SECTION_LINES[section] if line not in out] == []


def test_the_losses_section_prints_the_books_numbers(tmp_path, capsys):
    assert main(["demo", "losses", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert [line for line in SECTION_LINES["losses"] if line not in out] == []


def test_console_script_runs_and_bad_usage_exits_2(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "nnlearn", "demo", "losses"], capture_output=True, text=True)
    assert ok.returncode == 0 and "0.510825457099338" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "nnlearn", "demo", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr and "Traceback" not in bad.stderr


SCRIPTS = {"zh": re.compile(r"[\u4e00-\u9fff]"), "ja": re.compile(r"[\u3040-\u30ff]")}


@pytest.mark.parametrize("lang", ["zh", "ja"])
def test_the_explanations_are_in_the_readers_language_and_the_numbers_are_the_same(lang, tmp_path, capsys):
    assert main(["demo", "losses", "--out", str(tmp_path)]) == 0
    english = capsys.readouterr().out
    assert main(["demo", "losses", "--lang", lang, "--out", str(tmp_path)]) == 0
    said = capsys.readouterr().out
    lines = said.strip().splitlines()
    assert lines[0].startswith("== 4.2 ") and SCRIPTS[lang].search(lines[0])
    explanations = [line for line in lines if "=" not in line]  # the lines that are words, not numbers
    assert explanations and all(SCRIPTS[lang].search(line) for line in explanations)
    numbers = [line for line in english.splitlines() if "_error" in line]
    assert len(numbers) == 6 and all(line in said for line in numbers)


def test_minibatch_draws_the_seeded_batch_and_writes_its_images(tmp_path, capsys, mnist_dir):
    import numpy as np

    argv = ["demo", "minibatch", "--batch-size", "3", "--data-dir", str(mnist_dir), "--out", str(tmp_path / "figs")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "x_train.shape = (60000, 784)" in out and "t_train.shape = (60000, 10)" in out
    assert f"batch_mask = {np.random.default_rng(0).choice(60000, 3).tolist()}" in out  # np.random.choice's draw
    assert "x_batch.shape = (3, 784), t_batch.shape = (3, 10)" in out
    assert (tmp_path / "figs" / "minibatch.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("section", ["routes", "minibatch"])
def test_a_negative_seed_is_a_usage_error(section, capsys):
    with pytest.raises(SystemExit) as exit_:  # numpy's default_rng(-1) raised ValueError: an internal error
        main(["demo", section, "--seed", "-1"])
    assert exit_.value.code == 2 and "argument --seed: must be" in capsys.readouterr().err
