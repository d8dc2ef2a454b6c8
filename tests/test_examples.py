"""Every script in examples/ runs and prints what its comments promise.

They run in this process, as ``python FILE`` would run them (``runpy`` with ``__main__``): a child
process each cost half a second of imports. ``test_mnist`` runs ``minibatch.py`` as a child process.
"""

import re
import runpy
import warnings
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# Scripts that need real data or train for long are run by their own feature's tests.
EXPECTED = {
    "loss_functions.py": ["0.09750000000000003 0.510825457099338", "0.5975 2.302584092994546"],
    "numerical_diff.py": ["0.1999999999990898", "0.2999999999986347", "0.0"],
    "partial_derivatives.py": ["6.00000000000378", "7.999999999999119"],
    "gradient.py": ["[6. 8.]", "[0. 4.]", "[6. 0.]"],
    "gradient_descent.py": ["[-6.11110793e-10  8.14814391e-10]", "[-2.99999994  3.99999992]"],
}
# What a script warns of, on purpose (the book's step of 1e-50 is lost to rounding).
WARNS = {"numerical_diff.py": r"^h=1e-49 is below the spacing of floating-point numbers at x"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", [str(EXAMPLES / name)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    expected, messages = WARNS.get(name), [str(w.message) for w in caught]
    assert [m for m in messages if not (expected and re.match(expected, m))] == []
    if expected:
        assert any(re.match(expected, m) for m in messages)
    out = capsys.readouterr().out
    for text in EXPECTED[name]:
        assert text in out
