"""One HTTP request through an ASGI app, as a server hands it over (tests of the ASGI handlers)."""

from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync


def asgi_request(app, path: str, *, method: str = "GET", body: bytes = b"",
                 headers: list[tuple[bytes, bytes]] | None = None) -> tuple[int, dict[bytes, bytes], bytes]:
    """(status, headers, body) of the app's answer; the client stays connected until it is sent."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "https",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"testserver"), *(headers or [])],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 443)}
    sent: list[dict] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict:
        if messages:
            return messages.pop()
        await asyncio.sleep(3600)  # the client stays connected (the handler stops listening when it answers)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    async_to_sync(app)(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return (start["status"], dict(start["headers"]),
            b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))
