"""``nnlearn.check(target)`` from Python and Jupyter: a namespace such as ``globals()``, one function,
one class, a module. The definitions' source goes to the child process, never the objects."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types

import pytest

import nnlearn
from nnlearn.base.errors import InputError, InputTypeError
from nnlearn.checker import check

CELLS = [
    "import numpy as np\nH = 1e-4",
    "def numerical_diff(f, x):\n    return (f(x + H) - f(x - H)) / (2 * H)",
    "def softmax(x):\n    x = x - np.max(x, axis=-1, keepdims=True)\n    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)",
    "def cross_entropy_error(t, y):\n    return -np.sum(t * np.log(y + 1e-7)) / np.atleast_2d(y).shape[0]",
    "class simpleNet:\n    def __init__(self):\n        self.W = np.random.randn(2, 3)\n\n    def predict(self, x):\n"
    "        return np.dot(x, self.W)\n\n    def loss(self, x, t):\n        return cross_entropy_error(softmax(self.predict(x)), t)",
    "log_file = open(__file__ if '__file__' in dir() else '/dev/null')",
]


@pytest.fixture(scope="module")
def notebook():
    """A real IPython shell that ran the cells, as a Jupyter kernel would."""
    InteractiveShell = pytest.importorskip("IPython.core.interactiveshell").InteractiveShell
    shell = InteractiveShell.instance()
    try:
        for cell in CELLS:
            assert shell.run_cell(cell).success
        yield shell.user_ns
    finally:
        shell.user_ns["log_file"].close()
        InteractiveShell.clear_instance()


def statuses(report) -> dict:
    return {r.name: (r.status, [f["id"] for f in r.findings], r.uses) for r in report.rows if r.status != "missing"}


def test_a_notebooks_globals_are_checked_from_their_source(notebook):
    report = check(notebook, lang="en")
    assert statuses(report) == {
        "softmax": ("pass", [], []),
        "cross_entropy_error": ("fail", ["swapped-arguments"], []),
        "numerical_diff": ("pass", [], []),
        "simpleNet": ("pass", [], []),
        "simpleNet.predict": ("pass", [], []),
        "simpleNet.loss": ("pass", [], ["cross_entropy_error"]),
    }
    assert report.target == "globals()" and report.notes == []


def test_an_error_is_shown_in_the_cell_that_defines_it(notebook):
    notebook["sigmoid"] = None
    exec(
        compile("def sigmoid(x):\n    return 1 / (1 + np.exp(-x)) + undefined", "<ipython-input-9-abc>", "exec"),
        notebook,
    )
    import linecache

    linecache.cache["<ipython-input-9-abc>"] = (
        1,
        None,
        ["def sigmoid(x):\n", "    return 1 / (1 + np.exp(-x)) + undefined\n"],
        "<ipython-input-9-abc>",
    )
    try:
        report = check(notebook["sigmoid"], lang="en")
    finally:
        del notebook["sigmoid"]
    (row,) = report.rows
    assert row.findings[0]["got"] == "NameError: name 'undefined' is not defined"
    assert row.findings[0]["where"] == [["", 2, "return 1 / (1 + np.exp(-x)) + undefined", "sigmoid"]]
    assert "the cell defining sigmoid, line 2: return 1 / (1 + np.exp(-x)) + undefined" in report.text()


def test_one_function_or_one_class_is_checked_alone(notebook):
    report = check(notebook["softmax"], lang="en")
    assert [(r.name, r.status) for r in report.rows] == [("softmax", "pass")]
    report = check(notebook["simpleNet"], lang="en")
    assert [r.name for r in report.rows] == ["simpleNet", "simpleNet.predict", "simpleNet.loss"]
    # alone, the class is judged with the functions it calls as they are: its loss passes the target first
    assert [f["id"] for f in report.rows[2].findings] == ["swapped-arguments"] and report.rows[2].uses == []


def test_what_cannot_be_carried_is_named(notebook):
    notebook["uses_log"] = None
    cell = "def sigmoid(x):\n    log_file.write('x')\n    return 1 / (1 + np.exp(-x))"
    assert nnlearn.__name__  # the shell's namespace, not this module's, holds the cell
    exec(compile(cell, "<ipython-input-10-def>", "exec"), notebook)
    import linecache

    linecache.cache["<ipython-input-10-def>"] = (1, None, cell.splitlines(True), "<ipython-input-10-def>")
    try:
        report = check(notebook["sigmoid"], lang="en")
    finally:
        del notebook["sigmoid"], notebook["uses_log"]
    assert report.notes == [{"kind": "not-carried", "name": "log_file", "type": "TextIOWrapper"}]
    assert report.rows[0].findings[0]["got"] == "NameError: name 'log_file' is not defined"


def test_a_module_and_a_scripts_globals_are_checked_by_their_file(tmp_path):
    script = tmp_path / "my_chapter.py"
    script.write_text(
        textwrap.dedent("""\
        import numpy as np
        import nnlearn

        def sigmoid(x):
            return 1 / (1 + np.exp(-x))

        if __name__ == "__main__":
            print(nnlearn.check(globals(), lang="en").summary())
    """)
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # the file ran again in the child, where its own nnlearn.check(globals()) did nothing
    assert proc.stdout.splitlines()[-1].startswith("1 of 1 correct")
    module = types.ModuleType("my_chapter")
    module.__file__ = str(script)
    assert [(r.name, r.status) for r in check(module, lang="en").found] == [("sigmoid", "pass")]


def test_what_cannot_be_checked_is_refused():
    with pytest.raises(InputTypeError, match="takes a path, a module, a namespace"):
        check(42)
    # a bytes path is a path (it was a raw TypeError from open())
    with pytest.raises(InputError, match=r"^/nonexistent-nnlearn\.py: no such file"):
        check(b"/nonexistent-nnlearn.py")
    with pytest.raises(InputError, match="'relu' is not one of the chapter's names"):
        check(nnlearn.relu)
    with pytest.raises(InputError, match="has no .py file"):
        check(types.ModuleType("empty"))
