"""HEAD answered wherever GET is: monitoring tools and link checkers send HEAD, and FastAPI's routes
answer only the methods they declare (a GET route answered HEAD with 405)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """Runs a HEAD request as a GET and sends the answer's status and headers without its body
    (RFC 9110 §9.3.2). The GET handler runs once, checking and recording what it does for a GET
    (a read of non-public data is audited once, as a GET's is); nothing is answered that the GET
    would not answer. A path without GET answers HEAD as it answers GET: 405 on a POST-only route.

    The request goes on as a copy of its scope: the server reads the method of its own scope to
    know that no body is due, and the middlewares outside this one log and count a HEAD."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        as_get = {**scope, "method": "GET"}

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(as_get, receive, headers_only)
        finally:
            if "route" in as_get:  # the route matched, for the access log and the metrics
                scope["route"] = as_get["route"]
