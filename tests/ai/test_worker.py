"""core.ai.worker with the REAL bundled runners (Real-ESRGAN animevideov3 for upscale, Whisper tiny.en for
audio-to-text, SmolLM2 for llm): slots, refusals, loading once, resolve rules, unavailable models.

To hold a slot at a known moment, some tests wrap the real runner in `Gate` (a test instrument, not a
fake): its run() and load() wait for the test to open the gate, then call the real model, whose real
output the test checks. Waits are on conditions (tests/waiting.py), never sleeps for timing.
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.ai import catalog
from core.ai.ports import (
    BadRequest,
    ChatMessage,
    InsufficientCapacity,
    LLMRequest,
    ModelSpec,
    ModelUnavailable,
    Pipeline,
    UnsupportedMedia,
    Upload,
    UpscaleRequest,
)
from core.ai.worker import AIWorker
from tests.waiting import wait_for

UPSCALE = "realesrgan/realesr-animevideov3-x4"
WHISPER = "openai/whisper-tiny.en"
LLM = "HuggingFaceTB/SmolLM2-135M-Instruct"


def _png(w: int, h: int) -> bytes:
    from PIL import Image

    img = Image.new("RGB", (w, h))
    img.putdata([((x * 7) % 256, (y * 5) % 256, ((x + y) * 3) % 256) for y in range(h) for x in range(w)])
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def upscale_request(w: int = 32, h: int = 24, model_id: str = "") -> UpscaleRequest:
    return UpscaleRequest(prompt="", image=Upload("in.png", "image/png", _png(w, h)), model_id=model_id, seed=5)


def size_of(result) -> tuple[int, int]:
    from PIL import Image

    (media,) = result.images
    with Image.open(io.BytesIO(media.data)) as im:
        return im.size


class Gate:
    """The real runner, with run() and load() held until the test opens `run_gate` / `load_gate`.
    Counts load() calls."""

    def __init__(self, real, *, hold_run: bool = True, hold_load: bool = False) -> None:
        self.real = real
        self.run_gate, self.load_gate = threading.Event(), threading.Event()
        if not hold_run:
            self.run_gate.set()
        if not hold_load:
            self.load_gate.set()
        self.loads = 0
        self.running = 0

    def __getattr__(self, name):
        return getattr(self.real, name)

    @property
    def loaded(self) -> bool:
        return self.real.loaded

    def load(self, device: str) -> None:
        self.loads += 1
        assert self.load_gate.wait(60), "the test never opened the load gate"
        self.real.load(device)

    def run(self, request):
        self.running += 1
        assert self.run_gate.wait(60), "the test never opened the run gate"
        return self.real.run(request)


def gated(**kw):
    gates = {}

    def runner_for(spec, models_dir):
        gates[spec.model_id] = Gate(catalog.runner_for(spec, models_dir), **kw)
        return gates[spec.model_id]

    return runner_for, gates


def view(worker, model_id):
    return next(v for v in worker.models() if v.model_id == model_id)


@pytest.fixture(scope="module")
def warm_worker():
    """upscale + audio-to-text, both warm, loaded once for the module."""
    w = AIWorker([ModelSpec(Pipeline.UPSCALE, UPSCALE, warm=True), ModelSpec(Pipeline.AUDIO_TO_TEXT, WHISPER, warm=True)])
    w.start()
    wait_for(lambda: all(v.state == "warm" for v in w.models() if v.model_id), 120,
             lambda: f"warm models: {[(v.model_id, v.state, v.reason) for v in w.models()]}")
    yield w
    w.stop()


# ------------------------------------------------------------------------------------------ resolve
def test_resolve_rules(warm_worker):
    assert warm_worker.resolve(Pipeline.UPSCALE, "") == UPSCALE
    assert warm_worker.resolve(Pipeline.UPSCALE, UPSCALE) == UPSCALE
    with pytest.raises(ModelUnavailable) as e:
        warm_worker.resolve(Pipeline.UPSCALE, "realesrgan/RealESRGAN_x4plus")
    assert str(e.value) == f"upscale: model realesrgan/RealESRGAN_x4plus is not served here; served: {UPSCALE}"
    assert e.value.status == 503
    with pytest.raises(ModelUnavailable, match="text-to-image: no model configured"):
        warm_worker.resolve(Pipeline.TEXT_TO_IMAGE, "")


def test_empty_model_id_prefers_the_first_warm_model():
    w = AIWorker([ModelSpec(Pipeline.UPSCALE, "realesrgan/RealESRGAN_x4plus", warm=False),
                  ModelSpec(Pipeline.UPSCALE, UPSCALE, warm=True)])
    assert w.resolve(Pipeline.UPSCALE, "") == UPSCALE
    assert w.resolve(Pipeline.UPSCALE, "realesrgan/RealESRGAN_x4plus") == "realesrgan/RealESRGAN_x4plus"


def test_warm_models_serve_real_results(warm_worker):
    assert size_of(warm_worker.run(Pipeline.UPSCALE, upscale_request(40, 30))) == (160, 120)
    v = view(warm_worker, UPSCALE)
    assert v.state == "warm" and v.device and v.requests >= 1 and v.latency_p50_s is not None and v.in_use == 0
    assert v.bundled and v.price == "0"


def test_transcribes_speech(warm_worker, tmp_path):
    import shutil
    import subprocess

    from core.ai.ports import AudioToTextRequest

    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is installed by the set-up command"
    wav = tmp_path / "speech.wav"
    subprocess.run([espeak, "-w", str(wav), "-s", "130", "Please open the door and close the window."], check=True)
    result = warm_worker.run(Pipeline.AUDIO_TO_TEXT, AudioToTextRequest(audio=Upload("speech.wav", "audio/wav",
                                                                                      wav.read_bytes())))
    words = result.text.lower()
    assert all(w in words for w in ("open", "door", "close", "window")), result.text


def test_client_errors_are_not_the_models_fault(warm_worker):
    before = view(warm_worker, UPSCALE)
    with pytest.raises(UnsupportedMedia):
        warm_worker.run(Pipeline.UPSCALE, UpscaleRequest(prompt="", image=Upload("x.png", "image/png", b"not a png" * 9)))
    after = view(warm_worker, UPSCALE)
    assert after.client_errors == before.client_errors + 1 and after.errors == before.errors and after.in_use == 0
    assert size_of(warm_worker.run(Pipeline.UPSCALE, upscale_request())) == (128, 96)  # and it keeps serving


def test_wrong_request_type_for_the_pipeline(warm_worker):
    with pytest.raises(BadRequest, match="audio-to-text: a UpscaleRequest is not a audio-to-text request"):
        warm_worker.run(Pipeline.AUDIO_TO_TEXT, upscale_request())


# ------------------------------------------------------------------------------------------ capacity
def test_a_busy_model_refuses_at_once_with_insufficient_capacity():
    runner_for, gates = gated(hold_run=True)
    w = AIWorker([ModelSpec(Pipeline.UPSCALE, UPSCALE, warm=True, capacity=1)], runner_for=runner_for)
    w.start()
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(w.run, Pipeline.UPSCALE, upscale_request())
        wait_for(lambda: gates[UPSCALE].running == 1, 60, "the first request to reach the model")
        with pytest.raises(InsufficientCapacity) as e:
            w.run(Pipeline.UPSCALE, upscale_request())
        assert str(e.value).startswith("insufficient capacity") and UPSCALE in str(e.value) and e.value.status == 503
        assert view(w, UPSCALE).in_use == 1 and view(w, UPSCALE).refused == 1
        gates[UPSCALE].run_gate.set()
        assert size_of(first.result(60)) == (128, 96)
    assert view(w, UPSCALE).in_use == 0
    assert size_of(w.run(Pipeline.UPSCALE, upscale_request())) == (128, 96)  # the slot came back
    w.stop()


def test_capacity_two_runs_two_at_once_and_refuses_the_third():
    runner_for, gates = gated(hold_run=True)
    w = AIWorker([ModelSpec(Pipeline.UPSCALE, UPSCALE, warm=True, capacity=2)], runner_for=runner_for)
    w.start()
    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(w.run, Pipeline.UPSCALE, upscale_request(16, 16))
        b = pool.submit(w.run, Pipeline.UPSCALE, upscale_request(20, 12))
        wait_for(lambda: gates[UPSCALE].running == 2, 60, "both requests to reach the model")
        assert view(w, UPSCALE).in_use == 2
        with pytest.raises(InsufficientCapacity, match="running 2 of 2 requests"):
            w.run(Pipeline.UPSCALE, upscale_request())
        gates[UPSCALE].run_gate.set()
        assert (size_of(a.result(60)), size_of(b.result(60))) == ((64, 64), (80, 48))
    w.stop()


def test_a_cold_model_loads_once_under_concurrent_first_requests():
    runner_for, gates = gated(hold_run=False, hold_load=True)
    w = AIWorker([ModelSpec(Pipeline.UPSCALE, UPSCALE, warm=False, capacity=3)], runner_for=runner_for)
    assert view(w, UPSCALE).state == "cold"
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(w.run, Pipeline.UPSCALE, upscale_request()) for _ in range(3)]
        wait_for(lambda: view(w, UPSCALE).in_use == 3, 60, "three requests holding slots")
        assert view(w, UPSCALE).state == "loading" and gates[UPSCALE].loads == 1
        gates[UPSCALE].load_gate.set()
        assert [size_of(f.result(60)) for f in futures] == [(128, 96)] * 3
    assert gates[UPSCALE].loads == 1 and view(w, UPSCALE).state == "warm"
    w.stop()
    assert view(w, UPSCALE).state == "cold" and not gates[UPSCALE].loaded


def test_stop_lets_a_running_request_finish_before_unloading():
    runner_for, gates = gated(hold_run=True)
    w = AIWorker([ModelSpec(Pipeline.UPSCALE, UPSCALE, warm=True)], runner_for=runner_for)
    w.start()
    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(w.run, Pipeline.UPSCALE, upscale_request())
        wait_for(lambda: gates[UPSCALE].running == 1, 60, "the request to reach the model")
        stopping = pool.submit(w.stop)
        wait_for(w._stopping.is_set, 10, "stop() to begin")
        with pytest.raises(TimeoutError):
            stopping.result(timeout=0.5)  # still waiting for the request, the model still loaded
        assert gates[UPSCALE].loaded
        gates[UPSCALE].run_gate.set()
        assert size_of(running.result(60)) == (128, 96)
        stopping.result(60)
    assert not gates[UPSCALE].loaded and view(w, UPSCALE).state == "cold"


# ------------------------------------------------------------------------------------------ llm
@pytest.fixture(scope="module")
def llm_worker():
    w = AIWorker([ModelSpec(Pipeline.LLM, LLM, warm=True, capacity=1)])
    w.start()
    wait_for(lambda: view(w, LLM).state in ("warm", "unavailable"), 120, "SmolLM2 to load")
    assert view(w, LLM).state == "warm", view(w, LLM).reason
    yield w
    w.stop()


def _ask(text: str, **kw) -> LLMRequest:
    return LLMRequest(messages=(ChatMessage("user", text),), temperature=0.0, **kw)


def test_an_open_stream_holds_the_slot_until_closed(llm_worker):
    stream = llm_worker.stream(_ask("Count from one to twenty.", max_tokens=60, stream=True))
    first = next(stream)
    assert first.text or first.finish_reason
    assert view(llm_worker, LLM).in_use == 1
    with pytest.raises(InsufficientCapacity, match=f"insufficient capacity: llm {LLM}"):
        llm_worker.run(Pipeline.LLM, _ask("Hi", max_tokens=4))
    with pytest.raises(InsufficientCapacity):
        llm_worker.stream(_ask("Hi", max_tokens=4, stream=True))
    stream.close()
    assert view(llm_worker, LLM).in_use == 0
    answer = llm_worker.run(Pipeline.LLM, _ask("What is the capital of France?", max_tokens=12))
    assert "paris" in answer.text.lower()


def test_an_exhausted_stream_releases_the_slot(llm_worker):
    chunks = list(llm_worker.stream(_ask("Say hello.", max_tokens=6, stream=True)))
    assert chunks[-1].finish_reason in ("stop", "length") and view(llm_worker, LLM).in_use == 0


# ------------------------------------------------------------------------------------------ unavailable
def test_missing_user_weights_are_unavailable_with_the_reason_and_not_advertised(tmp_path):
    specs = [ModelSpec(Pipeline.TEXT_TO_IMAGE, "stabilityai/sd-turbo", warm=True),
             ModelSpec(Pipeline.LLM, "acme/chat", url="http://127.0.0.1:9", token="t0ken"),
             ModelSpec(Pipeline.UPSCALE, UPSCALE)]
    w = AIWorker(specs, models_dir=tmp_path)
    w.start()  # a warm model without weights is checked on the loading thread and not loaded
    t2i = wait_for(lambda: (v := view(w, "stabilityai/sd-turbo")).state != "loading" and v, 30, "the weights check")
    assert t2i.state == "unavailable" and "sd-turbo" in t2i.reason and str(tmp_path) in t2i.reason, t2i.reason
    ext = view(w, "acme/chat")
    assert ext.state == "unavailable" and "the external ai-runner at http://127.0.0.1:9 does not answer" in ext.reason
    assert [s.model_id for s, *_ in w.advertised()] == [UPSCALE]
    with pytest.raises(ModelUnavailable) as e:
        w.resolve(Pipeline.TEXT_TO_IMAGE, "")
    assert "sd-turbo" in str(e.value) and str(tmp_path) in str(e.value)
    from core.ai.ports import TextToImageRequest

    with pytest.raises(ModelUnavailable, match="sd-turbo"):
        w.run(Pipeline.TEXT_TO_IMAGE, TextToImageRequest(prompt="a fox"))
    unconfigured = view(w, "")  # the first pipeline without a configured model has a row too
    assert unconfigured.state == "unavailable" and unconfigured.reason
    assert {v.pipeline for v in w.models()} == {p.value for p in Pipeline}
    assert "t0ken" not in repr(w.models()) + repr(w.advertised())
    w.stop()


def test_a_failed_load_is_unavailable_with_the_error_and_retried_by_the_next_request(tmp_path):
    import hashlib

    from core.ai.ports import TextToImageRequest

    broken = tmp_path / "acme" / "broken"  # verified weights that diffusers cannot build a pipeline from
    broken.mkdir(parents=True)
    (broken / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    digest = hashlib.sha256((broken / "model_index.json").read_bytes()).hexdigest()
    (broken / "SHA256SUMS").write_text(f"{digest}  model_index.json\n")
    w = AIWorker([ModelSpec(Pipeline.TEXT_TO_IMAGE, "acme/broken", warm=True)], models_dir=tmp_path)
    w.start()
    v = wait_for(lambda: (x := view(w, "acme/broken")).state != "loading" and x, 60, "the warm load to end")
    assert v.state == "unavailable" and "could not load" in v.reason and str(broken) in v.reason, v.reason
    with pytest.raises(ModelUnavailable, match="could not load") as e:
        w.run(Pipeline.TEXT_TO_IMAGE, TextToImageRequest(prompt="a fox"))
    assert e.value.status == 503
    v = view(w, "acme/broken")
    assert (v.errors, v.client_errors, v.in_use) == (1, 0, 0)
    w.stop()


def test_advertised_rows_for_models_with_weights(warm_worker):
    rows = {s.model_id: (warm, cap, in_use) for s, warm, cap, in_use in warm_worker.advertised()}
    assert rows == {UPSCALE: (True, 1, 0), WHISPER: (True, 1, 0)}


# ------------------------------------------------------------------------------------------ catalog
def test_catalog_picks_bundled_user_weights_or_external(tmp_path):
    from core.ai.external_runner import ExternalRunner

    bundled = catalog.runner_for(ModelSpec(Pipeline.AUDIO_TO_TEXT, WHISPER), tmp_path)
    assert bundled.bundled and bundled.model_id == WHISPER and bundled.available() is None
    user = catalog.runner_for(ModelSpec(Pipeline.AUDIO_TO_TEXT, "acme/whisper-large"), tmp_path)
    assert not user.bundled and "acme/whisper-large" in user.available()
    external = catalog.runner_for(ModelSpec(Pipeline.LLM, LLM, url="http://127.0.0.1:9"), None)
    assert isinstance(external, ExternalRunner)


def test_bundled_defaults_without_ai_models():
    from core.ai.models_file import load_ai_models
    from fractions import Fraction

    specs = load_ai_models(None, default_price=Fraction(0), default_pixels=1, offchain=True)
    by_pipeline = {s.pipeline: s for s in specs}
    assert by_pipeline[Pipeline.AUDIO_TO_TEXT].model_id == WHISPER and by_pipeline[Pipeline.UPSCALE].model_id == UPSCALE
    assert all(s.warm and s.capacity == 1 for s in specs)
    w = AIWorker(specs)
    assert {s.model_id for s, *_ in w.advertised()} >= {WHISPER, UPSCALE}
