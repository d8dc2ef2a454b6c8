"""What every request of the board passes through: the host check, the same-origin rule for a POST,
the security headers of every answer, and the budget of bytes for drawings as they arrive."""

from __future__ import annotations

import ipaddress
import socket

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from nnlearn.base.i18n import _
from nnlearn.see.board.web import Refused
from nnlearn.see.templating import BOARD_CSP, header_csp

#: Bind addresses that listen on every interface.
WILDCARDS = ("0.0.0.0", "::", "")

#: What every answer carries, errors included (:class:`SecurityHeaders`; the server's own 400s too).
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-resource-policy": "same-origin",
    "content-security-policy": header_csp(BOARD_CSP),
}


def allowed_hosts(host: str) -> list[str]:
    """The ``Host`` names the board answers: 127.0.0.1, localhost and the address it listens on;
    listening on every interface (0.0.0.0), also this computer's own names and their addresses.

    Examples
    --------
    >>> allowed_hosts("127.0.0.1")
    ['127.0.0.1', 'localhost']
    >>> allowed_hosts("::1")
    ['127.0.0.1', '[::1]', 'localhost']
    """
    names = {"127.0.0.1", "localhost", host}
    if host in WILDCARDS:
        names |= {socket.gethostname(), socket.getfqdn()}
        for name in list(names):
            try:
                names |= {info[4][0] for info in socket.getaddrinfo(name, None)}
            except (OSError, UnicodeError):
                pass
    names -= set(WILDCARDS)
    return sorted((f"[{n}]" if ":" in n else n).lower() for n in names)


def same_origin(request: Request) -> None:
    """Refuse (:class:`Refused`) a POST that another site's page could have sent.

    A browser names the page's site in ``Origin`` on every cross-site POST: it must be this board.
    Without ``Origin`` (a script, an old browser) the body must be declared ``image/png``, which a
    form or a simple request of another site cannot send without asking first (CORS preflight: an
    OPTIONS that the board refuses).
    """
    origin = request.headers.get("origin")
    if origin is not None and origin.lower() != f"{request.url.scheme}://{request.headers.get('host', '')}".lower():
        raise Refused(
            403, _("a drawing is accepted only from the board's own page (the request came from another site)")
        )
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "image/png":
        raise Refused(415, _("send the drawing as a PNG body with Content-Type: image/png"))


class ByteBudget:
    """Bytes held at most, all requests together (the event loop's thread only: no lock)."""

    def __init__(self, limit: int):
        self.limit, self.used = limit, 0

    def take(self, n: int) -> bool:
        if self.used + n > self.limit:
            return False
        self.used += n
        return True

    def give(self, n: int) -> None:
        self.used -= n


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every answer that does not set its own (pure ASGI middleware),
    outside Starlette's handler of unhandled exceptions: a 500 is a page like any other (an injected
    inline script ran on one without a CSP)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    headers.setdefault(key, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HostCheck:
    """Answers only requests whose ``Host`` is one of :func:`allowed_hosts`, or the address the
    connection came in on (pure ASGI middleware; else 400, as Starlette's TrustedHostMiddleware).

    That address is this computer's own: listening on 0.0.0.0, ``http://192.168.1.5:8765/`` works from
    the LAN, while a page that re-points its name at this computer (DNS rebinding) sends its own name.
    """

    def __init__(self, app, allowed):
        self.app = app
        self.allowed = set(allowed)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not self.allowed_host(scope):
            return await PlainTextResponse(_("Invalid host header"), status_code=400)(scope, receive, send)
        return await self.app(scope, receive, send)

    def allowed_host(self, scope) -> bool:
        host = Headers(scope=scope).get("host", "").lower()
        name = host[: host.find("]") + 1] if host.startswith("[") else host.split(":")[0]
        if name in self.allowed:
            return True
        try:
            local = ipaddress.ip_address((scope.get("server") or ("",))[0])
        except ValueError:
            return False
        local = getattr(local, "ipv4_mapped", None) or local  # ::ffff:a.b.c.d on a dual-stack socket
        return name == (f"[{local}]" if local.version == 6 else str(local))
