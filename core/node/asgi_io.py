"""Small ASGI helpers: read a bounded request body, send plain-text and byte responses."""

from __future__ import annotations


class ClientGone(Exception):
    """The client disconnected before the request body was complete."""


class BodyTooLarge(Exception):
    pass


def header(scope, name: bytes) -> bytes | None:
    for k, v in scope["headers"]:
        if k == name:
            return v
    return None


async def read_body(receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            raise ClientGone()
        body = msg.get("body", b"")
        size += len(body)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(body)
        if not msg.get("more_body", False):
            return b"".join(chunks)


class BodyStalled(Exception):
    """The request body stopped arriving, or did not finish in time (the message says which)."""


async def read_body_within(receive, limit: int, *, idle_s: float, total_s: float) -> bytes:
    """read_body with the deadlines hypercorn does not have: a client that sends nothing for idle_s (a
    Content-Length larger than the body sent, a stalled upload), or has not sent it all after total_s (a
    slow-loris, one byte at a time), raises BodyStalled; the caller answers 408."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + total_s
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            async with asyncio.timeout(max(0.0, min(idle_s, deadline - loop.time()))):
                msg = await receive()
        except TimeoutError:
            if loop.time() >= deadline:
                raise BodyStalled(f"the request body did not arrive within {total_s:g} s ({size:,} bytes came)") from None
            raise BodyStalled(f"the request body stopped arriving: nothing for {idle_s:g} s after {size:,} bytes "
                              "(a Content-Length larger than the body sent, or a stalled upload)") from None
        if msg["type"] == "http.disconnect":
            raise ClientGone()
        body = msg.get("body", b"")
        size += len(body)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(body)
        if not msg.get("more_body", False):
            return b"".join(chunks)


async def watch_disconnect(receive, gone) -> None:
    """Set the asyncio.Event `gone` when the client disconnects (run it as a task beside a streamed answer,
    whose body has been read already)."""
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            gone.set()
            return


async def drain(receive, limit: int) -> None:
    """Read and drop the rest of a request body before answering early: over HTTP/1.1 the connection
    cannot be reused otherwise. (Over HTTP/2 the node answers at once and resets the stream instead:
    core/node/h2_early.py.)"""
    size = 0
    while size <= limit:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            return
        size += len(msg.get("body", b""))
        if not msg.get("more_body", False):
            return


async def send_text(send, status: int, text: str) -> None:
    """A go-style error: text/plain, the message and a newline."""
    body = (text + "\n").encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})


async def send_bytes(send, status: int, body: bytes, content_type: bytes) -> None:
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
