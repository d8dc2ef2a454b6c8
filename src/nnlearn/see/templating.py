"""The one way nnlearn writes a web page: Jinja2 templates (``nnlearn/see/templates/``) that escape every value.

Autoescaping is on, an undefined name is an error, and no page is assembled from strings of HTML anywhere
else; the one markup a template takes whole is the report's SVG charts, whose texts matplotlib escapes. Each
page carries a Content-Security-Policy: no inline script runs, nothing comes from another origin, and the
report loads nothing at all. Templates translate with ``{% trans %}`` or ``{{ _("...") }}`` in the page's
``lang``, into nnlearn's one catalogue (``babel.cfg`` extracts them).
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
    ``lang`` (default: the current language, :func:`nnlearn.base.i18n.current`)."""
    lang = i18n.current() if lang is None else i18n.choose(lang)
    return environment().get_template(template).render(lang=lang, **context)
