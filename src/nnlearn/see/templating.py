"""The one way nnlearn writes a web page: Jinja2 templates that escape every value by default.

Every page nnlearn writes (``nnlearn report``) or serves (``nnlearn board``) is rendered here from
the templates in ``nnlearn/see/templates/``: autoescaping is on for HTML and SVG, an undefined name is
an error (``StrictUndefined``), and no page is assembled from strings of HTML anywhere else; the one
piece of markup a template takes whole is the report's charts, SVG written by matplotlib, which escapes
every text it draws (:func:`nnlearn.common.evaluation.figure_svg`). A value read from a run folder -- a
setting, a file name, a column -- is text, whatever characters it holds.

Each page also carries a Content-Security-Policy (a ``<meta>`` in the page, and a header where the
board serves it): no inline script or event handler runs, nothing is loaded from another origin,
and the report loads nothing at all (its style and pictures are inside it).

Pages speak the reader's language (:mod:`nnlearn.base.i18n`): Jinja2's i18n extension is on, so a
template writes ``{% trans %}Runs{% endtrans %}``, ``{% trans n=runs|length %}{{ n }} runs{% endtrans %}`` (msgid ``%(n)s runs``) or
``{{ _("Runs") }}``, and :func:`render` takes the page's ``lang`` (the current language by default);
the template sees it as ``lang`` (for ``<html lang=...>`` and a language switcher). The messages go
to nnlearn's one catalogue (``babel.cfg`` extracts them).
"""

from __future__ import annotations

import functools

from nnlearn.base import i18n

#: The report: one file with its style and ``data:`` pictures; no script, nothing loaded.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
#: The board's pages: their own scripts and style sheet from the board, requests to the board only.
BOARD_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'"
)


def header_csp(policy: str) -> str:
    """``policy`` as an HTTP header: a header may also forbid framing (a ``<meta>`` may not)."""
    return policy + "; frame-ancestors 'none'"


@functools.cache
def environment():
    """The Jinja2 environment over ``nnlearn/see/templates`` (made once)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape

    # babel.cfg extracts the templates with these same options (trim_blocks, lstrip_blocks, trimmed).
    env = Environment(
        loader=PackageLoader("nnlearn.see", "templates"),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html", "svg", "xml"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    # One environment serves every language: the translation is looked up in the page's own ``lang``
    # (Jinja2's new-style gettext calls these with the render context), so concurrent requests in
    # different languages never share a global.
    env.policies["ext.i18n.trimmed"] = True

    @pass_context
    def gettext(context, message):
        return i18n.translations(context["lang"]).gettext(message)

    @pass_context
    def ngettext(context, singular, plural, n):
        return i18n.translations(context["lang"]).ngettext(singular, plural, n)

    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.globals.update(REPORT_CSP=REPORT_CSP, BOARD_CSP=BOARD_CSP)
    return env


def render(template: str, /, *, lang: str | None = None, **context) -> str:
    """The template ``template`` (a path under ``nnlearn/see/templates``) rendered with ``context``, in
    ``lang`` (default: the current language, :func:`nnlearn.base.i18n.current`).

    Examples
    --------
    >>> page = render("report/page.html", title="<b>x</b>", kind="empty")
    >>> "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    True
    >>> from markupsafe import escape
    >>> f'<meta http-equiv="Content-Security-Policy" content="{escape(REPORT_CSP)}">' in page
    True
    """
    lang = i18n.current() if lang is None else i18n.choose(lang)
    return environment().get_template(template).render(lang=lang, **context)


def render_string(source: str, /, *, lang: str | None = None, **context) -> str:
    """``source``, a template given as text, rendered as :func:`render` renders a file (tests, snippets).

    Examples
    --------
    >>> render_string('<p>{% trans %}your code{% endtrans %}: {{ _("not found") }}</p>', lang="zh")
    '<p>你的代码: 未找到</p>'
    """
    lang = i18n.current() if lang is None else i18n.choose(lang)
    return environment().from_string(source).render(lang=lang, **context)
