"""Every script in examples/ runs and prints what its comments promise."""

import subprocess
import sys
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
def test_example_runs(name, tmp_path):
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    for text in EXPECTED[name]:
        assert text in proc.stdout
