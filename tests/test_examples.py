"""Every script in examples/ runs and prints what its comments promise.

They run in this process, as ``python FILE`` would run them (``runpy`` with ``__main__``): a child
process each cost half a second of imports. ``test_mnist`` runs ``minibatch.py`` as a child process.
"""

import runpy
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


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", [str(EXAMPLES / name)])
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    out = capsys.readouterr().out
    for text in EXPECTED[name]:
        assert text in out
