"""The hop's rules (core/gateway/ai_client.py): what an orchestrator's answer makes the gateway do next, the
SSE events read back out of a stream as the orchestrator wrote them, and result URLs fetched only from the
orchestrator's own host."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from core.gateway.ai_client import AIClient, HopError, HopKind, classify, sse_events


@pytest.mark.parametrize("status, text, kind", [
    (503, "insufficient capacity: every slot of upscale m is busy; try again", HopKind.CAPACITY),
    (503, "upscale: model m is loading", HopKind.UNAVAILABLE),
    (400, "upscale: the 'image' file is missing", HopKind.CLIENT),
    (413, "llm: the prompt is 9000 tokens; the context is 8192", HopKind.CLIENT),
    (415, "audio-to-text: not audio", HopKind.CLIENT),
    (400, "Insufficient balance", HopKind.CREDENTIALS),
    (402, "could not parse the payment", HopKind.CREDENTIALS),
    (403, "invalid auth token", HopKind.CREDENTIALS),
    (500, "upscale container failed", HopKind.FAULT),
    (404, "404 page not found", HopKind.FAULT),
])
def test_what_an_orchestrators_answer_means(status, text, kind):
    assert classify(status, text) is kind


class _Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks):
        self.chunks = chunks

    async def __aiter__(self):
        for c in self.chunks:
            yield c


def test_sse_events_come_out_whole_however_the_bytes_were_cut():
    wire = b'data: {"a": 1}\n\ndata: {"b": 2}\n\ndata: [DONE]\n\ndata: {"never": 0}\n\n'
    cuts = [wire[:7], wire[7:19], wire[19:20], wire[20:]]

    async def read():
        return [e async for e in sse_events(httpx.Response(200, stream=_Chunks(cuts)))]

    assert asyncio.run(read()) == [b'{"a": 1}', b'{"b": 2}']


def test_results_are_fetched_only_from_the_orchestrators_host_or_data_uris():
    client = AIClient()

    async def go():
        try:
            data = await client.fetch("data:image/png;base64,iVBORw0KGgo=", "https://10.0.0.5:8935")
            with pytest.raises(HopError, match="not on the orchestrator's own host") as exc:
                await client.fetch("http://169.254.169.254/latest/meta-data", "https://10.0.0.5:8935")
            return data, exc.value.kind
        finally:
            await client.aclose()

    (data, ctype), kind = asyncio.run(go())
    assert data == b"\x89PNG\r\n\x1a\n" and ctype == "image/png" and kind is HopKind.FAULT
