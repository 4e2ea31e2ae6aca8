"""The AI screen (key A) with real AI workers and the real bundled models: the models' table (state, device,
memory, slots, requests, latency, price; why a pipeline is unavailable), M starting a worker of the
settings and M stopping it (its models freed), and the try-it panel — an upscale of a small PNG shows the
4x size and saves the PNG, the llm's answer streams in, a missing or undecodable file says what is wrong
and the screen keeps working.

The snapshot is a worker of the bundled models as cold entries and five pipelines without weights (in a
models dir that does not exist), so nothing loads and no time varies. The try-it tests share one worker
of the module (upscale and llm warm, loaded once; audio-to-text cold).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PIL import Image
from textual.widgets import DataTable, Input, Select, Static

from console.app import LivepeerConsole
from console.screens.ai.ai import AIScreen, TryChunk, TryDone
from core.ai.ports import ModelSpec, Pipeline
from tests.console.pilot import SIZE, plain_text, settle, wait_until

NO_WEIGHTS_DIR = Path("/nonexistent/lpc-ai-test-models")  # no user weights: those pipelines are unavailable
UPSCALE_MODEL = "realesrgan/realesr-animevideov3-x4"
LLM_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
WHISPER_MODEL = "openai/whisper-tiny.en"
TTS_MODEL = "hibari-tts/heart"


def _worker(specs):
    from core.ai.worker import AIWorker

    return AIWorker(specs, models_dir=NO_WEIGHTS_DIR)


@pytest.fixture(scope="module")
def served():
    """A real worker serving the bundled upscale and llm (warm: loaded once for the module), audio-to-text and
    text-to-speech (cold: each loads on the first try that reaches it)."""
    worker = _worker((ModelSpec(Pipeline.UPSCALE, UPSCALE_MODEL, warm=True),
                      ModelSpec(Pipeline.LLM, LLM_MODEL, warm=True),
                      ModelSpec(Pipeline.AUDIO_TO_TEXT, WHISPER_MODEL),
                      ModelSpec(Pipeline.TEXT_TO_SPEECH, TTS_MODEL)))
    worker.start()
    yield worker
    worker.stop()


async def _open(pilot) -> AIScreen:
    await settle(pilot)
    await pilot.press("A")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, AIScreen)
    return screen


async def _wait_warm(pilot, screen, *pipelines):
    def warm():
        screen.action_refresh()
        states = {m.pipeline: m.state for m in screen._models()}
        return all(states.get(p) == "warm" for p in pipelines)
    await wait_until(pilot, warm, f"{', '.join(pipelines)} warm", timeout=90)


async def _pick(pilot, screen, pipeline: str) -> None:
    select = screen.query_one("#try-pipeline", Select)
    await wait_until(pilot, lambda: pipeline in [v for _, v in screen._options], f"{pipeline} offered")
    select.value = pipeline
    await pilot.pause()


async def _try(pilot, screen, *, prompt: str = "", path: str = "") -> str:
    screen.query_one("#try-prompt", Input).value = prompt
    screen.query_one("#try-file", Input).value = path
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: screen.try_state != "running", "the try's answer", timeout=120)
    await settle(pilot)
    return plain_text(screen.query_one("#try-answer", Static), 200)


def _row(screen, pipeline: str) -> list[str]:
    table = screen.query_one(DataTable)
    for i in range(table.row_count):
        row = [str(c) for c in table.get_row_at(i)]
        if row[0] == pipeline:
            return row
    raise AssertionError(f"no {pipeline} row")


def test_ai_screen_snapshot_bundled_models_cold_and_pipelines_without_weights(console_services, snap_compare):
    """The bundled models configured cold (nothing loaded yet) and the pipelines that need user weights
    unavailable, with the highlighted row's words beneath."""
    from core.ai.bundled import default_specs

    worker = _worker(tuple(dataclasses.replace(s, warm=False) for s in default_specs()))
    worker.start()
    console_services.ai_worker = worker

    async def run_before(pilot):
        screen = await _open(pilot)
        states = {m.pipeline: m.state for m in screen._models()}
        assert {p for p, s in states.items() if s == "cold"} == {"audio-to-text", "text-to-speech", "llm", "upscale"}
        assert states["text-to-image"] == "unavailable"

    try:
        assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)
    finally:
        worker.stop()


async def test_M_starts_the_settings_worker_and_M_again_stops_it_and_frees_its_models(console_services):
    """With no worker the screen says what M would load and the memory it takes; M starts the worker these
    settings describe (-aiModels: only the bundled upscale, warm), built by the composition root as `lpc node
    --aiWorker` builds it; M again stops it and its model is unloaded."""
    console_services.settings.node.ai_models = f"upscale:{UPSCALE_MODEL}:true"
    console_services.settings.node.offchain = False  # on chain: the models are priced (offchain, as go: none)
    console_services.settings.node.price_per_unit = "1200"
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        assert screen.has_class("-stopped") and screen.has_class("-no-models")
        await wait_until(pilot, lambda: screen.start_note not in ("", "…"), "what M would load")
        await pilot.pause()
        status = plain_text(screen.query_one("#ai-status", Static), 200)
        assert "press M to start one" in status
        assert f"1 model: upscale ({UPSCALE_MODEL}); about " in status and "MiB of memory once loaded" in status
        assert "no pipeline to try: start an AI worker (M)" in plain_text(screen.query_one("#try-hint", Static))

        await pilot.press("M")
        await settle(pilot)
        worker = console_services.ai_worker
        assert worker is not None and not screen.has_class("-stopped")
        await _wait_warm(pilot, screen, "upscale")
        await settle(pilot)
        row = _row(screen, "upscale")
        assert row[1:4] == [UPSCALE_MODEL, "warm", "cpu"] and row[5] == "0/1"
        assert row[9] == "1200 wei / 1 unit"  # the node's -pricePerUnit, as the orchestrator quotes it
        assert _row(screen, "llm")[2] == "unavailable"  # not in these settings' models
        status = plain_text(screen.query_one("#ai-status", Static), 200)
        assert "an AI worker started in this console" in status and "1 model served, 1 loaded" in status
        assert "device" in status and "cpu" in status
        assert screen.query_one("#try-pipeline", Select).value == "upscale"  # the one servable pipeline

        await pilot.press("M")
        await settle(pilot)
        assert console_services.ai_worker is None and screen.has_class("-stopped")
        assert all(m.state != "warm" for m in worker.models())  # stopping unloaded it
        assert any(e.text == "AI worker stopped: its models are freed" for e in app.console_log.entries)
        assert "none in this console" in plain_text(screen.query_one("#ai-status", Static), 200)


async def test_try_upscale_shows_the_4x_size_and_saves_the_png(console_services, served, tmp_path):
    picture = tmp_path / "small.png"
    Image.radial_gradient("L").resize((64, 48)).convert("RGB").save(picture)
    console_services.ai_worker = served
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await _wait_warm(pilot, screen, "upscale")
        await _pick(pilot, screen, "upscale")
        before = _row(screen, "upscale")[6]
        answer = await _try(pilot, screen, path=str(picture))
        assert screen.try_state == "done", answer
        assert f"upscale · {UPSCALE_MODEL}" in answer and "256x192 PNG" in answer
        saved = Path(answer.split("saved ", 1)[1].split()[0])
        assert saved.parent == console_services.settings.data_dir / "ai-try" and saved.suffix == ".png"
        with Image.open(saved) as out:
            assert out.size == (256, 192)
        await wait_until(pilot, lambda: int(_row(screen, "upscale")[6]) == int(before) + 1, "the request counted")
        console_services.ai_worker = None  # the module's worker: stopped by its fixture, not by the app's exit


async def test_a_missing_or_undecodable_file_is_said_in_words_and_the_screen_keeps_working(console_services, served,
                                                                                           tmp_path):
    console_services.ai_worker = served
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await _pick(pilot, screen, "audio-to-text")
        missing = tmp_path / "speech.wav"
        answer = await _try(pilot, screen, path=str(missing))
        assert screen.try_state == "failed"
        assert f"audio-to-text: no file at {missing}: type the path of an audio file" in answer
        assert "Traceback" not in answer

        garbage = tmp_path / "noise.wav"
        garbage.write_bytes(b"RIFF this is not audio at all" * 40)
        answer = await _try(pilot, screen, path=str(garbage))
        assert screen.try_state == "failed"
        assert "Unsupported audio format or malformed file" in answer and "noise.wav" in answer

        await _pick(pilot, screen, "upscale")  # and the next try works
        picture = tmp_path / "ok.png"
        Image.new("RGB", (16, 16), (200, 40, 40)).save(picture)
        answer = await _try(pilot, screen, path=str(picture))
        assert screen.try_state == "done" and "64x64 PNG" in answer
        console_services.ai_worker = None


async def test_try_speech_saves_a_wav_and_its_transcript_has_the_words_with_timestamps(console_services, served):
    """text-to-speech saves a WAV in the data dir with its duration; that file tried on audio-to-text reads the
    words back, with timestamps."""
    console_services.ai_worker = served
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await _pick(pilot, screen, "text-to-speech")
        answer = await _try(pilot, screen, prompt="The quick brown fox jumps over the lazy dog.")
        assert screen.try_state == "done", answer
        assert "(loading the model first)" in answer  # it was cold
        saved = Path(answer.split("saved ", 1)[1].split()[0])
        assert saved.parent == console_services.settings.data_dir / "ai-try" and saved.suffix == ".wav"
        seconds = float(answer.split(" · ")[-1].split(" s WAV")[0])
        assert 1.0 < seconds < 9.0 and "24 kHz" in answer  # nine words, spoken

        await _pick(pilot, screen, "audio-to-text")
        answer = await _try(pilot, screen, path=str(saved))
        assert screen.try_state == "done", answer
        words = answer.lower()
        assert all(w in words for w in ("quick", "brown", "fox", "lazy", "dog")), answer
        assert "[0:00." in answer and " → 0:0" in answer  # a timestamped piece
        console_services.ai_worker = None


async def test_an_unavailable_pipeline_says_why_and_is_not_offered(console_services, served):
    console_services.ai_worker = served
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        assert "text-to-image" not in [v for _, v in screen._options]
        assert "unavailable: " in plain_text(screen.query_one("#unavailable", Static), 200)
        table = screen.query_one(DataTable)
        row = next(i for i in range(table.row_count) if str(table.get_row_at(i)[0]) == "text-to-image")
        table.move_cursor(row=row)
        await settle(pilot)
        detail = " ".join(plain_text(screen.query_one("#model-detail", Static), 300).split())
        assert "text-to-image" in detail and "unavailable (not served)" in detail
        assert f"why: no weights in {NO_WEIGHTS_DIR}" in detail and "SHA256SUMS" in detail
        console_services.ai_worker = None


async def test_try_llm_streams_its_answer(console_services, served):
    seen: list = []
    console_services.ai_worker = served
    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE, message_hook=lambda m: isinstance(m, (TryChunk, TryDone)) and seen.append(m)) \
            as pilot:
        screen = await _open(pilot)
        await _wait_warm(pilot, screen, "llm")
        await _pick(pilot, screen, "llm")
        assert screen.query_one("#try-file", Input).disabled  # the llm takes a prompt only
        answer = await _try(pilot, screen, prompt="What is the capital of France?")
        assert screen.try_state == "done", answer
        chunks = [m.text for m in seen if isinstance(m, TryChunk)]
        done = next(m.answer for m in seen if isinstance(m, TryDone))
        assert len(chunks) > 1 and "".join(chunks) == done.text  # it came in pieces, as generated
        assert "Paris" in done.text and done.finish_reason in ("stop", "length")
        assert f"llm · {LLM_MODEL}" in answer and "answer tokens" in answer and "Paris" in answer

        # X stops an answer while it streams in: the generation ends and the model's slot is free again
        seen.clear()
        screen.query_one("#try-prompt", Input).value = "Write a long story about a lighthouse keeper and the sea."
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any(isinstance(m, TryChunk) for m in seen), "the first piece of the story")
        await pilot.press("X")
        await settle(pilot)
        assert screen.try_state == "failed"
        assert "stopped llm" in plain_text(screen.query_one("#try-status", Static), 200)
        llm = lambda: next(m for m in served.models() if m.pipeline == "llm")  # noqa: E731
        await wait_until(pilot, lambda: llm().in_use == 0, "the llm's slot freed")
        assert not any(isinstance(m, TryDone) for m in seen)  # no answer was claimed for the stopped story
        console_services.ai_worker = None


def test_the_file_field_completes_a_typed_path(tmp_path):
    """Picking a file without a dialog: the typed directory's entry that starts with the typed name (→ takes
    it), directories with their "/", nothing for a path that leads nowhere."""
    from console.screens.ai.path_suggester import complete_path

    (tmp_path / "speech.wav").write_bytes(b"RIFF")
    (tmp_path / "pictures").mkdir()
    assert complete_path(f"{tmp_path}/spe") == f"{tmp_path}/speech.wav"
    assert complete_path(f"{tmp_path}/pic") == f"{tmp_path}/pictures/"
    assert complete_path(f"{tmp_path}/speech.wav") is None
    assert complete_path(f"{tmp_path}/nothing/here") is None


async def test_the_nodes_ai_worker_is_shown_and_M_leaves_it_to_the_node(console_services, tmp_path):
    """This console's node runs with an AI worker (`--ai-worker`, AI only): the screen shows the node's
    models, and M says the models stop with the node instead of stopping them."""
    from core.node import Node, NodeConfig

    worker = _worker((ModelSpec(Pipeline.UPSCALE, UPSCALE_MODEL),))  # cold: nothing loads
    node = Node(NodeConfig(data_dir=tmp_path / "node", service_addr="127.0.0.1:0", http_addr="127.0.0.1:0",
                           cli_addr=None, transcoding=False, ai_worker=True), ai=worker)
    node.start()
    try:
        console_services.node = node
        app = LivepeerConsole(console_services, poll=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = await _open(pilot)
            status = plain_text(screen.query_one("#ai-status", Static), 200)
            assert "the AI worker of this console's node · 1 model served, 0 loaded" in status
            assert _row(screen, "upscale")[1:3] == [UPSCALE_MODEL, "cold"]
            await pilot.press("M")
            await settle(pilot)
            assert console_services.ai_worker is None and node.ai is worker
            assert any("they stop with the node" in e.text for e in app.console_log.entries)
            console_services.node = None  # stopped below, not by the app's exit
    finally:
        node.stop()


def test_what_was_typed_is_checked_before_any_model_runs(tmp_path):
    """The try-it panel's own checks, in words naming the field: a prompt the pipeline needs, a file path that
    is empty, a directory, an empty file or over the gateway's 50 MB limit."""
    from console.screens.ai.try_it import build_request
    from core.ai.ports import BadRequest, TooLarge

    def refused(pipeline, prompt="", path="", kind=BadRequest) -> str:
        with pytest.raises(kind) as caught:
            build_request(pipeline, prompt, path)
        return str(caught.value)

    assert refused(Pipeline.LLM, "   ") == "llm: type a question or an instruction in the prompt field"
    assert refused(Pipeline.TEXT_TO_SPEECH) == "text-to-speech: type the text to speak in the prompt field"
    assert refused(Pipeline.UPSCALE).startswith("upscale: no file given: type the path of an image")
    assert refused(Pipeline.UPSCALE, path=str(tmp_path)) == f"upscale: {tmp_path} is a directory: type the path " \
                                                           "of an image (PNG, JPEG, WebP)"
    (tmp_path / "empty.wav").write_bytes(b"")
    assert refused(Pipeline.AUDIO_TO_TEXT, path=str(tmp_path / "empty.wav")).startswith(
        f"audio-to-text: {tmp_path / 'empty.wav'} is empty")
    with open(tmp_path / "huge.png", "wb") as f:
        f.truncate(51 * 2**20)
    assert "is 51.0 MiB; the limit is 50 MiB" in refused(Pipeline.UPSCALE, path=str(tmp_path / "huge.png"),
                                                          kind=TooLarge)
    llm = build_request(Pipeline.LLM, " What is 2+2? ")
    assert llm.messages[0].content == "What is 2+2?" and llm.temperature == 0.0  # greedy: a repeatable check
