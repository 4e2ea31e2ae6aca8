"""The gateway's AI API (core/gateway/ai_api.py) against a slow-loris: a request whose body never finishes.

It held such a request for ever (read_body has no deadline, nor has hypercorn); it now reads the body as the
orchestrator's AI routes do, with core.node.asgi_io.read_body_within (an idle deadline and an overall one),
and answers 408. Driven as ASGI by hand,
as hypercorn would, so the test needs no orchestrator: the body never arrives, so none is ever chosen."""

from __future__ import annotations

import asyncio

import pytest

from core.gateway.ai_api import AIApi
from core.gateway.ai_media import AIMediaStore
from core.gateway.ai_pool import AIPool


def test_a_body_that_never_arrives_is_answered_408_not_held_for_ever():
    api = AIApi(AIPool(("127.0.0.1:1",)), AIMediaStore())
    api.body_idle_s = 1.0  # 30 s by default
    sent: list[dict] = []

    async def receive():  # the headers came (Content-Length 100000) and then nothing, ever
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/upscale", "http_version": "1.1",
             "headers": [(b"content-type", b"multipart/form-data; boundary=x"), (b"content-length", b"100000")]}

    async def main():
        try:
            await asyncio.wait_for(api(scope, receive, send), 8)
        except TimeoutError:
            pass
        finally:
            await api.aclose()

    asyncio.run(main())
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert starts and starts[0]["status"] == 408
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert b"stopped arriving: nothing for 1 s" in body
