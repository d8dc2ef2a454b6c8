"""The README's promises: its two commands, its Python example."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_opens_with_two_commands_and_ci_runs_the_second():
    first_block = re.search(r"```sh\n(.*?)```", README, flags=re.S).group(1).strip().splitlines()
    assert len(first_block) == 2
    install_and_train, install_and_test = first_block
    assert install_and_train.startswith("pip install -e . && nnlearn train")
    assert install_and_test.startswith("pip install -e '.[test]' && ") and "pytest" in install_and_test
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert install_and_test in ci


@pytest.mark.realdata
def test_readme_python_example_runs(mnist_dir, monkeypatch):
    code = re.search(r"```python\n(.*?)```", README, flags=re.S).group(1)
    monkeypatch.setenv("NNLEARN_DATA", str(mnist_dir))
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)  # the project's own README, not user input
    assert namespace["grads"]["W1"].shape == (784, 50)


def test_the_readme_quotes_each_recipes_accuracy_as_one_figure():
    # The book recipe's figure is the one test_cli_train.py's whole-recipe test asserts (0.9461) on one thread
    # and on two; the strong recipe's depend on the BLAS kernel and thread count (BENCHMARKS.md's table):
    # the README quotes their range, and the one count and kernel of the routes table.
    assert set(re.findall(r"\b94\.\d\d %", README)) == {"94.61 %"}
    assert set(re.findall(r"\b98\.4\d? %", README)) == {"98.4 %", "98.42 %", "98.44 %"}
    assert "98.39-98.44 % by BLAS kernel and thread count" in README
    assert "about 94.7 %" not in README.replace("the book reports about 94.7 %", "")
