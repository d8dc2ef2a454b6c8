"""A training run, several runs or a sweep as ONE self-contained HTML file.

Every chart is inline SVG drawn by matplotlib (the run figures' functions), every picture an embedded PNG (``data:`` URI), the style sheet is in
the page: the file opens from disk, mailed or archived, with no network and no other file. It is
rendered by Jinja2 templates that escape every value (:mod:`nnlearn.see.templating`), and carries a
Content-Security-Policy under which no script runs and nothing is loaded.

For a run directory the report shows the settings and the result; the loss per iteration (raw and
its moving average); the accuracies per epoch on an axis zoomed to the data; the confusion matrix
with the accuracy per class; the first layer's weights as 28x28 images; the most confident
mistakes and the least confident correct answers; and the gradient check when the run holds a
``gradcheck.json``. For several run directories: their curves overlaid and their settings side
by side. For a sweep directory (``trials.csv``): the trials sorted by validation accuracy,
``best.json``, the sweep's PNG figures and the report of its ``final/`` run.

``gradcheck.json`` (optional, in a run directory) is the result of comparing backpropagation
with the numerical gradient::

    {"params": {"W1": {"shape": [784, 50], "checked": 100, "max_abs": 2.1e-10, "relative": 3.4e-9}, ...},
     "limit": 1e-6,                       # optional: the largest relative difference accepted
     "batch": "mnist train[:3]",          # optional: what the gradient was taken on
     "seconds": 0.4}                      # optional

The confusion matrix and the example images need the model (``model.npz``) and the test set; when
either is missing the report says why in place of those sections and shows the rest.
"""

from nnlearn.see.report.model import load_test_set
from nnlearn.see.report.pages import build_report, check_dirs, default_output, write_report

__all__ = ["build_report", "check_dirs", "default_output", "load_test_set", "write_report"]
