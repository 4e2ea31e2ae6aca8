"""llm at the orchestrator with the bundled SmolLM2-135M-Instruct: an OpenAI-style answer, and with
"stream": true a text/event-stream of one event per generated piece, the last with finish_reason. While a
stream holds the model's one slot the next request is refused with 503 "insufficient capacity"; a client
that goes away mid-stream stops the generation and frees the slot."""

from __future__ import annotations

import base64
import json
import os
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from core.proto import net
from tests.node.gateway import Gateway

os.environ.setdefault("LPC_AI_CACHE", str(Path(tempfile.gettempdir()) / "lpc-test-model-cache"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

LLM = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture(scope="module")
def llm_node(tmp_path_factory):
    from core.composition import assemble_node
    from core.settings import load_settings

    data_dir = tmp_path_factory.mktemp("llm-node")
    built = assemble_node(load_settings(data_dir), {
        "service_addr": "127.0.0.1:0", "http_addr": "127.0.0.1:0", "cli_addr": None, "offchain": True,
        "encoder": "x264", "ai_worker": True, "ai_models": f"llm:{LLM}:true", "transcoding": False})
    node = built.node
    status = node.start()
    port = int(status.listening.rsplit(":", 1)[1])
    gw = Gateway("127.0.0.1", port)
    client = httpx.Client(http2=True, verify=False, timeout=120)
    # the node serves while the warm model loads (even from its cache that takes seconds on this CPU)
    before = _view(node).state
    early = client.post(f"https://127.0.0.1:{port}/llm", headers=_headers(gw), json=_body("Hi", stream=False, max_tokens=4))
    if before == "loading" and _view(node).state == "loading":  # it was loading all along: refused, not held
        assert early.status_code == 503 and "is loading" in early.text and LLM in early.text
    deadline = time.monotonic() + 180  # SmolLM2's first load de-quantises the GGUF (~24 s), then it is cached
    while time.monotonic() < deadline and _view(node).state == "loading":
        time.sleep(0.2)
    assert _view(node).state == "warm", _view(node).reason
    yield node, gw, client, f"https://127.0.0.1:{port}"
    client.close()
    gw.close()
    node.stop()
    built.close()


def _view(node):
    return next(m for m in node.status().ai_models if m.model_id == LLM)


def _headers(gw: Gateway) -> dict:
    info = gw.get_orchestrator()
    seg = net.SegData(auth_token=info.auth_token)
    return {"Livepeer-Segment": base64.b64encode(seg.SerializeToString()).decode(), "Livepeer-Payment": "",
            "Authorization": "Livepeer-AI-Worker-1.0"}


def _body(text: str, *, stream: bool, max_tokens: int) -> dict:
    return {"messages": [{"role": "user", "content": text}], "model": "", "temperature": 0, "max_tokens": max_tokens,
            "top_p": 1, "top_k": -1, "stream": stream}


def _events(lines) -> list[dict]:
    return [json.loads(line[len("data: "):]) for line in lines if line.startswith("data: ")]


def test_a_non_streaming_answer_is_openai_shaped(llm_node):
    _, gw, client, base = llm_node
    r = client.post(f"{base}/llm", headers=_headers(gw), json=_body("What is the capital of France?",
                                                                      stream=False, max_tokens=16))
    assert r.status_code == 200, r.text
    body = r.json()
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant" and choice["message"]["content"].strip()
    assert choice["finish_reason"] in ("stop", "length")
    u = body["usage"]
    assert u["prompt_tokens"] > 0 and u["completion_tokens"] > 0
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]
    assert body["model"] == LLM


def test_a_stream_sends_one_event_per_piece_and_ends_with_finish_reason(llm_node):
    _, gw, client, base = llm_node
    with client.stream("POST", f"{base}/llm", headers=_headers(gw),
                       json=_body("Count from one to five.", stream=True, max_tokens=24)) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = _events(r.iter_lines())
    assert len(events) > 2
    assert all(not e["choices"][0]["finish_reason"] for e in events[:-1])
    assert events[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    text = "".join(e["choices"][0]["delta"]["content"] for e in events)
    assert text.strip()


def test_a_held_stream_takes_the_slot_and_leaving_frees_it(llm_node):
    node, gw, client, base = llm_node
    reader = httpx.Client(http2=True, verify=False, timeout=120)  # its own connection, closed to leave
    with reader.stream("POST", f"{base}/llm", headers=_headers(gw),
                       json=_body("Write a long story about a lighthouse keeper.", stream=True, max_tokens=1000)) as r:
        assert r.status_code == 200
        first = next(line for line in r.iter_lines() if line.startswith("data: "))
        assert json.loads(first[6:])["choices"][0]["finish_reason"] == ""
        busy = client.post(f"{base}/llm", headers=_headers(gw), json=_body("Hi", stream=False, max_tokens=4))
        assert busy.status_code == 503
        assert busy.text.startswith("insufficient capacity") and LLM in busy.text
        held = gw.get_orchestrator().capabilities.constraints.PerCapability[33].models[LLM]
        assert (held.capacityInUse, held.capacity) == (1, 0)  # go-livepeer advertises idle slots as capacity
        reader.close()  # the client goes away after one event (1,000 tokens would take minutes here)
    # the generation stops and the slot is free again long before 1,000 tokens could be made
    deadline = time.monotonic() + 30
    while _view(node).in_use and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _view(node).in_use == 0
    made = _view(node).requests
    again = client.post(f"{base}/llm", headers=_headers(gw), json=_body("Hi", stream=False, max_tokens=4))
    assert again.status_code == 200, again.text
    assert _view(node).requests == made + 1
