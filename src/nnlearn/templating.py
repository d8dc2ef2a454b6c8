"""The one way nnlearn writes a web page: Jinja2 templates that escape every value by default.

Every page nnlearn writes (``nnlearn report``) or serves (``nnlearn board``) is rendered here from
the templates in ``nnlearn/templates/``: autoescaping is on for HTML and SVG, an undefined name is
an error (``StrictUndefined``), and no page is assembled from strings of HTML anywhere else. A value
read from a run folder -- a setting, a file name, a column -- is text, whatever characters it holds.

Each page also carries a Content-Security-Policy (a ``<meta>`` in the page, and a header where the
board serves it): no inline script or event handler runs, nothing is loaded from another origin,
and the report loads nothing at all (its style and pictures are inside it).
"""

from __future__ import annotations

import functools

#: The report: one file with its style and ``data:`` pictures; no script, nothing loaded.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
#: The board's pages: their own scripts and style sheet from the board, requests to the board only.
BOARD_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
             "base-uri 'none'; form-action 'none'")


def header_csp(policy: str) -> str:
    """``policy`` as an HTTP header: a header may also forbid framing (a ``<meta>`` may not)."""
    return policy + "; frame-ancestors 'none'"


@functools.cache
def environment():
    """The Jinja2 environment over ``nnlearn/templates`` (made once)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("nnlearn", "templates"), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "svg", "xml"], default_for_string=True, default=True),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals.update(REPORT_CSP=REPORT_CSP, BOARD_CSP=BOARD_CSP)
    return env


def render(template: str, /, **context) -> str:
    """The template ``template`` (a path under ``nnlearn/templates``) rendered with ``context``.

    Examples
    --------
    >>> page = render("report/page.html", title="<b>x</b>", kind="empty")
    >>> "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    True
    >>> from markupsafe import escape
    >>> f'<meta http-equiv="Content-Security-Policy" content="{escape(REPORT_CSP)}">' in page
    True
    """
    return environment().get_template(template).render(**context)
