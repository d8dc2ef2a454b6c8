"""examples/chapter4.ipynb runs top to bottom on the real MNIST files and prints the chapter's numbers."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "chapter4.ipynb"


def test_the_notebook_is_stored_without_outputs():
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) == 8
    assert [(c["outputs"], c["execution_count"]) for c in code] == [([], None)] * len(code)
    assert [sorted(c["metadata"]) for c in code if set(c["metadata"]) - {"tags"}] == []  # no timings
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert "/work" not in NOTEBOOK.read_text() and "NNLEARN_DATA=" not in NOTEBOOK.read_text()  # no paths


def text_of(cell) -> str:
    return "".join(out["text"] for out in cell.outputs if out.output_type == "stream" and out.name == "stdout")


@pytest.mark.slow
@pytest.mark.realdata
def test_the_notebook_runs_and_shows_the_chapters_numbers(mnist_dir, tmp_path, tmp_path_factory, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from jupyter_client.kernelspec import KernelSpecManager

    # The kernel must be this interpreter (jupyter_client runs a kernel spec's "python" as
    # sys.executable), so that it imports the nnlearn under test.
    assert KernelSpecManager().get_kernel_spec("python3").argv[0] in ("python", sys.executable)

    messages = []

    class Client(nbclient.NotebookClient):
        """Records the messages that show and replace outputs."""

        def process_message(self, msg, cell, cell_index):
            if msg["msg_type"] in ("display_data", "update_display_data"):
                messages.append((cell_index, msg["msg_type"], sorted(msg["content"]["data"])))
            return super().process_message(msg, cell, cell_index)

    # The kernel inherits the environment: the data folder, and (conftest) no cache outside the test.
    monkeypatch.setenv("NNLEARN_DATA", str(mnist_dir))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))  # no history in ~/.ipython
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = Client(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}})
    client.execute()

    cells = {c.metadata["tags"][0]: c for c in nb.cells if c.metadata.get("tags")}
    for cell in nb.cells:
        assert [o for o in cell.get("outputs", ()) if o.output_type == "error" or o.get("name") == "stderr"] == []

    assert text_of(cells["loss"]) == (
        "mean squared error:  0.09750000000000003 0.5975\ncross-entropy error: 0.510825457099338 2.302584092994546\n"
    )
    assert text_of(cells["diff"]) == "0.1999999999990898 0.2999999999986347\n0.0\n"
    assert text_of(cells["gradient"]) == "[3.0, 4.0] [6. 8.]\n[0.0, 2.0] [0. 4.]\n[3.0, 0.0] [6. 0.]\n"
    assert text_of(cells["descent"]).splitlines()[0] == "lr=0.1: [-6.11110793e-10  8.14814391e-10]"
    assert text_of(cells["descent"]).splitlines()[2] == "lr=1e-10: [-2.99999994  3.99999992]"
    assert text_of(cells["load"]) == "(60000, 784) (60000,) (10000, 784) (10000,)\n"

    description, result = text_of(cells["train"]).splitlines()
    assert description == "784-50-10 sigmoid, std 0.01, sgd lr 0.1, batch 100, 1800 iterations, float32"
    accuracy = float(re.fullmatch(r"test accuracy after 1800 iterations: (0\.\d{4})", result).group(1))
    assert accuracy >= 0.85

    # The live plot: shown once as a PNG under the training cell, then replaced after each of the
    # other two epochs; the executed notebook keeps the one (last) figure.
    train_index = nb.cells.index(cells["train"])
    assert messages == [
        (train_index, "display_data", ["image/png", "text/plain"]),
        (train_index, "update_display_data", ["image/png", "text/plain"]),
        (train_index, "update_display_data", ["image/png", "text/plain"]),
    ]
    shown = [o for o in cells["train"].outputs if o.output_type == "display_data"]
    assert len(shown) == 1 and shown[0].data["image/png"]

    # The report of the run, written in the notebook's folder (the temporary one), not the repository.
    report = tmp_path / "runs" / "chapter4" / "report.html"
    assert text_of(cells["report"]) == "runs/chapter4/report.html\n"
    html = report.read_text()
    assert f'<span class="big" id="test-accuracy">{accuracy:.2%}</span>' in html
    assert json.loads((tmp_path / "runs" / "chapter4" / "summary.json").read_text())["test_accuracy"] == accuracy
