"""What the gateway + orchestrator add to each bundled AI model, printed beside the model alone, in one run.

    PYTHONPATH=. python bench/ai.py [--runs 5] [--pipelines audio-to-text,llm,...]

Through the network: `lpc node -gateway` in front of `lpc node -orchestrator -aiWorker` (two real
processes, offchain, the bundled models warm), asked over real HTTP the way the livepeer-ai SDK asks
(same encodings and fields; httpx here, so the SDK's own process start is not counted), and for media
results the re-hosted file downloaded from the gateway too: the time until the user holds the bytes.
Direct: the same bundled model loaded in this process (core.ai.bundled) and its runner's run() called
with the same request. Runs alternate direct / network, so load on the machine falls on both alike.
Each figure is the median of --runs runs after one warm-up of each.

Aim (issue #12): the network adds at most 50 ms or 10 % of the direct time, whichever is larger.
audio-to-text also prints its real-time factor: seconds of audio per second of wall time.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from core.ai import ports  # noqa: E402
from core.ai.ports import Pipeline  # noqa: E402

SPEECH = ("The weather today is sunny and warm. Please send the report to the office by Friday. "
          "Livepeer runs video transcoding and artificial intelligence on an open network.")
TTS_TEXT = "Livepeer runs artificial intelligence on an open network of orchestrators."
LLM_MESSAGES = ({"role": "user", "content": "What is the capital of France?"},)
LLM_MAX_TOKENS = 32


@dataclass
class Case:
    """One pipeline's request, as a runner's dataclass (direct) and as the SDK's HTTP body (network)."""

    pipeline: Pipeline
    request: object  # a ports.*Request
    json: dict | None = None  # JSON pipelines
    form: dict | None = None  # multipart fields
    files: dict | None = None  # multipart files: name -> (filename, bytes, content type)
    audio_s: float = 0.0


def _speech_wav(path: Path) -> bytes:
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(path), SPEECH], check=True, capture_output=True)
    return path.read_bytes()


def _image_png(w: int, h: int) -> bytes:
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([(x * 255 // (w - 1)), (y * 255 // (h - 1)), ((x // 8 + y // 8) % 2) * 255], -1)
    buf = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def _wav_seconds(data: bytes) -> float:
    import wave
    with wave.open(io.BytesIO(data)) as w:
        return w.getnframes() / w.getframerate()


def cases(tmp: Path, model_of: dict[Pipeline, str], upscale_size: int) -> list[Case]:
    out = []
    for pipeline, model in model_of.items():
        if pipeline is Pipeline.AUDIO_TO_TEXT:
            wav = _speech_wav(tmp / "speech.wav")
            up = ports.Upload("speech.wav", "audio/wav", wav)
            out.append(Case(pipeline, ports.AudioToTextRequest(audio=up, model_id=model),
                            form={"model_id": model, "return_timestamps": "true"},
                            files={"audio": ("speech.wav", wav, "audio/wav")}, audio_s=_wav_seconds(wav)))
        elif pipeline is Pipeline.TEXT_TO_SPEECH:
            req = ports.TextToSpeechRequest(text=TTS_TEXT, model_id=model)
            out.append(Case(pipeline, req, json={"model_id": model, "text": TTS_TEXT, "description": req.description}))
        elif pipeline is Pipeline.LLM:
            req = ports.LLMRequest(messages=tuple(ports.ChatMessage(**m) for m in LLM_MESSAGES), model=model,
                                   temperature=0.0, max_tokens=LLM_MAX_TOKENS)
            out.append(Case(pipeline, req, json={"model": model, "messages": list(LLM_MESSAGES), "temperature": 0.0,
                                                 "max_tokens": LLM_MAX_TOKENS, "top_p": 1.0, "top_k": -1,
                                                 "stream": False}))
        elif pipeline is Pipeline.UPSCALE:
            png = _image_png(upscale_size, upscale_size)
            up = ports.Upload("small.png", "image/png", png)
            out.append(Case(pipeline, ports.UpscaleRequest(prompt="sharper", image=up, model_id=model, seed=1),
                            form={"prompt": "sharper", "model_id": model, "safety_check": "true", "seed": "1",
                                  "num_inference_steps": "75"},
                            files={"image": ("small.png", png, "image/png")}))
    return out


def _media_urls(pipeline: Pipeline, body: dict) -> list[str]:
    if pipeline is Pipeline.TEXT_TO_SPEECH:
        return [body["audio"]["url"]]
    return [image["url"] for image in body.get("images", [])]


def network_call(http: httpx.Client, base: str, case: Case) -> float:
    """Seconds from the request until the answer and every result file it names are downloaded."""
    t0 = time.perf_counter()
    if case.json is not None:
        r = http.post(base + case.pipeline.route, json=case.json)
    else:
        r = http.post(base + case.pipeline.route, data=case.form, files=case.files)
    if r.status_code != 200:
        raise RuntimeError(f"{case.pipeline.value}: {r.status_code} {r.text[:300]}")
    for url in _media_urls(case.pipeline, r.json()):
        if not url.startswith("data:"):
            http.get(urljoin(base + "/", url)).raise_for_status()
    return time.perf_counter() - t0


def _runner_seconds(nodes, model: str) -> float:
    """The orchestrator's own time for its last run of `model` (its worker's latency_last_s in /status)."""
    (row,) = [m for m in nodes.models() if m["model_id"] == model]
    return float(row["latency_last_s"])


def direct_call(runner, case: Case) -> float:
    t0 = time.perf_counter()
    runner.run(case.request)
    return time.perf_counter() - t0


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per pipeline and path, after one warm-up")
    ap.add_argument("--pipelines", default="", help="comma list (default: every pipeline with a bundled model)")
    ap.add_argument("--upscale-size", type=int, default=128, help="side of the square upscale input")
    args = ap.parse_args()

    from core.ai.bundled import bundled_runner, default_specs
    from core.ai.device import probe_device
    from tests.ai_sdk.conftest import started_ai_nodes

    wanted = {ports.pipeline_of(p.strip()) for p in args.pipelines.split(",") if p.strip()}
    model_of = {s.pipeline: s.model_id for s in default_specs() if not wanted or s.pipeline in wanted}
    device, why = probe_device()
    tmp = Path(tempfile.mkdtemp(prefix="lpc-bench-ai-"))
    print(f"bench/ai.py: {len(model_of)} bundled pipelines, median of {args.runs} runs after 1 warm-up; "
          f"device {device} ({why}); {_load()}")

    runners = {}
    for pipeline, model in model_of.items():
        runner = bundled_runner(pipeline, model)
        t0 = time.perf_counter()
        runner.load(device)
        runners[pipeline] = runner
        print(f"  direct: loaded {pipeline.value} {model} in {time.perf_counter() - t0:.1f} s")
    todo = cases(tmp, model_of, args.upscale_size)

    rows = []
    with started_ai_nodes(tmp / "nodes") as nodes, httpx.Client(timeout=300, trust_env=False) as http:
        base = nodes.gateway_url
        print(f"  network: gateway {base} -> orchestrator 127.0.0.1:{nodes.service_port}; {_load()}")
        for case in todo:
            runner = runners[case.pipeline]
            direct_call(runner, case), network_call(http, base, case)  # warm-up: first-call costs out of the way
            direct, network, inside = [], [], []
            for _ in range(args.runs):
                direct.append(direct_call(runner, case))
                network.append(network_call(http, base, case))
                inside.append(_runner_seconds(nodes, model_of[case.pipeline]))
            rows.append((case, statistics.median(direct), statistics.median(network), statistics.median(inside)))

    print()
    print(f"{'pipeline':<16}{'model':<38}{'direct ms':>11}{'network ms':>12}{'in O ms':>9}{'added ms':>10}"
          f"{'added %':>9}{'aim ms':>8}  verdict")
    for case, d, n, o in rows:
        added, aim = n - d, max(0.050, 0.10 * d)
        print(f"{case.pipeline.value:<16}{model_of[case.pipeline]:<38}{d * 1000:>11.1f}{n * 1000:>12.1f}"
              f"{o * 1000:>9.1f}{added * 1000:>10.1f}{100 * added / d:>8.1f}%{aim * 1000:>8.0f}  "
              f"{'meets' if added <= aim else 'MISSES'} the aim")
    print("(in O: the same runner's run() inside the orchestrator process, from its /status; network - in O is "
          "what HTTP, the hop and re-hosting cost)")
    for case, d, n, _o in rows:
        if case.audio_s:
            print(f"\naudio-to-text real-time factor ({case.audio_s:.1f} s of speech): direct {case.audio_s / d:.1f}x, "
                  f"through gateway + orchestrator {case.audio_s / n:.1f}x (audio seconds per wall second)")
    print(f"\n{_load()} at the end; runs: {args.runs} per path per pipeline")
    for runner in runners.values():
        runner.unload()


if __name__ == "__main__":
    main()
