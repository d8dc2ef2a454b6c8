"""The new user's smaller points (issue 28, point 5): what a finding's lines say."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnlearn.checker import check_files

MISTAKES = Path(__file__).resolve().parent / "check_corpus" / "mistakes"
CORRECT = MISTAKES.parent / "correct"
NAMES = ("diff_forward", "grad_not_restored", "diff_tiny_h", "grad_renamed_param")


#: A correct TwoLayerNet whose weights are integer or read-only arrays: the probes cannot write them.
UNWRITABLE = {"integer": "p[k] = p[k].astype(int)", "read_only": "p[k].flags.writeable = False"}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("unwritable")
    for name, change in UNWRITABLE.items():
        (folder / f"{name}.py").write_text(
            f"import sys\nsys.path.insert(0, {str(CORRECT)!r})\nfrom book_loops import TwoLayerNet as Book\n\n\n"
            "class TwoLayerNet(Book):\n"
            "    def __init__(self, *args, **kwargs):\n"
            "        super().__init__(*args, **kwargs)\n"
            "        p = self.params\n"
            f"        for k in p:\n            {change}\n"
        )
    files = [MISTAKES / f"{n}.py" for n in NAMES] + [folder / f"{n}.py" for n in UNWRITABLE]
    return dict(zip([*NAMES, *UNWRITABLE], check_files(files, lang="en", timeout=10)))


def findings(report) -> dict:
    return {f["id"]: f for r in report.rows for f in r.findings}


def test_the_checks_own_helpers_are_not_shown_as_the_readers(reports):
    shown = findings(reports["diff_forward"])["forward-difference"]["input"]
    assert shown == "numerical_diff(lambda x: np.sum(x**2), 0.0)" and "(square," not in reports["diff_forward"].text()


def test_x_not_restored_says_that_got_is_x_after_the_call(reports):
    finding = findings(reports["grad_not_restored"])["x-not-restored"]
    assert ["after-call", {}] in finding["details"]
    assert "got is x after the call" in reports["grad_not_restored"].text()


def test_a_finding_links_to_its_lesson_on_the_board(reports):
    text = reports["diff_tiny_h"].text()
    assert "lesson" in text and "nnlearn board, page /lessons/diff" in text
    assert "/lessons/" not in reports["grad_renamed_param"].in_language("en").text().split("[renamed-parameter]")[0]
    assert "レッスン" in reports["diff_tiny_h"].in_language("ja").text()


def test_a_name_error_is_one_line_naming_the_name(reports):
    finding = findings(reports["grad_renamed_param"])["renamed-parameter"]
    assert finding["details"] == [["name", {"name": "f"}]] and finding["got"] == "NameError: name 'f' is not defined"


def test_the_jupyter_table_is_styled(reports):
    html = reports["diff_tiny_h"]._repr_html_()
    assert html.startswith('<div class="nnlearn-check"><style>.nnlearn-check table{border-collapse:collapse')


def test_functions_without_a_source_file_are_said_so_not_listed_as_not_found(tmp_path):
    import subprocess
    import sys

    code = (
        "import numpy as np, nnlearn\n"
        "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n"
        "print(nnlearn.check(globals(), lang='en'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path).stdout
    assert "sigmoid     defined, but Python kept no source of it" in out
    assert "put the code in a .py file" in out and "not found: sigmoid" not in out
    assert "none of the chapter's names is defined here" not in out


LABEL_SUM = """import numpy as np


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    return -np.sum(np.log(y[np.arange(y.shape[0]), t] + 1e-7))


def softmax(z):
    return np.exp(z) / np.sum(np.exp(z))
"""


def test_a_fix_is_in_the_readers_names_and_label_code_gets_the_label_formula(tmp_path):
    path = tmp_path / "notes.py"
    path.write_text(LABEL_SUM)
    report = check_files([path], lang="en")[0]
    overflow = findings(report)["softmax-overflow"]
    assert overflow["names"] == {"a": "z", "x": "z"}
    assert report.finding_words(overflow)["fix"] == "c = np.max(z); exp_a = np.exp(z - c); return exp_a / np.sum(exp_a)"
    summed = findings(report)["sum-not-mean"]
    assert summed["severity"] == "warn" and ["labels-fix", {}] in summed["details"]
    assert "return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size" in report.text()


def test_weights_the_probes_cannot_write_make_the_network_not_the_books(reports):
    """The probes write known weights into the network's own arrays: an integer or read-only array
    refuses them (an integer one silently, by rounding), so the class is not the book's interface."""
    for name in UNWRITABLE:
        rows = {r.name: r for r in reports[name].rows}
        (finding,) = [f for f in rows["TwoLayerNet"].findings if f["severity"] == "fail"]
        assert finding["id"] == "book-interface" and finding["expected"] == "writable float arrays"
        assert {rows["TwoLayerNet.loss"].status, rows["TwoLayerNet.gradient"].status} == {"untested"}


def test_a_stand_in_that_fails_half_way_leaves_nothing_of_the_books_on_the_network():
    # One isolate request stands the book's methods in; the reader's network raising on the second
    # (a property, say) must not leave the first in place for the probes after it.
    from nnlearn.checker.child import Server

    class Net:
        reads = 0

        @property
        def params(self):
            Net.reads += 1
            if Net.reads > 1:
                raise RuntimeError("only once")
            return {"W1": np.ones((2, 2)), "b1": np.zeros(2), "W2": np.ones((2, 2)), "b2": np.zeros(2)}

        def predict(self, x):
            return x

        def loss(self, x, t):
            return self.predict(x)

        def accuracy(self, x, t):
            return self.predict(x) + self.loss(x, t)

    server, net = Server([]), Net()
    request = {
        "target": server.register(Net.accuracy),
        "cls": server.register(Net),
        "net": server.register(net),
        "failing": {},
        "methods": {"predict": ["predict", "predict", []], "loss": ["loss", "predict", []]},
    }
    with pytest.raises(RuntimeError):
        server.op_isolate(request)
    assert "predict" not in vars(net) and "loss" not in vars(net) and server.swaps == {}
