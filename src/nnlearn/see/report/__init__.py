"""A training run, several runs or a sweep as ONE self-contained HTML file.

Charts are inline SVG, pictures embedded PNGs, the style sheet inside: the file opens from disk, mailed or
archived, with nothing else. Jinja2 escapes every value (:mod:`nnlearn.see.templating`), and its
Content-Security-Policy runs no script and loads nothing. What the model and the test set show is in
:mod:`nnlearn.see.report.model`; without them the report says why in their place.

``gradcheck.json`` (optional, in a run directory) compares backpropagation with the numerical gradient::

    {"params": {"W1": {"shape": [784, 50], "checked": 100, "max_abs": 2.1e-10, "relative": 3.4e-9}, ...},
     "limit": 1e-6, "batch": "mnist train[:3]", "seconds": 0.4}  # optional; limit: the largest relative accepted
"""

from nnlearn.see.report.model import load_test_set
from nnlearn.see.report.pages import build_report, check_dirs, default_output, overlaid, write_report

__all__ = ["build_report", "check_dirs", "default_output", "load_test_set", "overlaid", "write_report"]
