"""text-to-speech with hibari (a 7.9 MB ONNX model distilled from Kokoro-82M, onnxruntime on the CPU).

    runner = hibari_runner(); runner.load("cpu")
    runner.run(TextToSpeechRequest(text="Hello there."))   # AudioResult: 16-bit mono WAV at 24 kHz

Only hibari's default voice, "heart" (American English, female), ships inside the package; every other
voice is downloaded on first use, which lpc must never do. So the runner loads the bundled file by path
and never names another voice. The API's `description` field describes a voice for Parler-TTS-style
models ("A male speaker delivers …"); hibari cannot follow such a description, so it is ignored rather
than half-honoured, and the one bundled voice always speaks.

Empty text is refused with ai-runner's message ("Text input must be provided."); text over MAX_TEXT_CHARS
is refused with TooLarge (it would hold the slot for minutes: hibari makes about 10 s of speech per
second on this class of CPU, and 4,000 characters is already about four minutes of speech).
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

from core.ai.ports import AudioResult, Media, Pipeline, RunnerFailed, TextToSpeechRequest, TooLarge
from core.ai.runners.base import RunnerBase, file_bytes, package_dir

MAX_TEXT_CHARS = 4000
HEART_ID = "hibari-tts/heart"


def hibari_assets() -> Path | None:
    root = package_dir("hibari")
    return None if root is None else root / "assets"


class HibariRunner(RunnerBase):
    """hibari's bundled voice. run() is serialised: the G2P front end keeps per-call state."""

    MODEL_FILES = ("hibari.onnx", "oov.onnx", "vocab.json")

    def __init__(self, model_id: str = HEART_ID) -> None:
        super().__init__(Pipeline.TEXT_TO_SPEECH, model_id, bundled=True,
                         description="hibari TTS, voice heart (American English, 24 kHz, onnxruntime), "
                                     "bundled (hibari-tts); the request's voice description is not used")
        self._tts = None
        self.sample_rate = 0
        self._lock = threading.Lock()

    def available(self) -> str | None:
        assets = hibari_assets()
        if assets is None:
            return "the package hibari-tts is not installed"
        missing = [n for n in self.MODEL_FILES if not (assets / n).is_file()]
        if missing:
            return f"{assets} lacks {', '.join(missing)} (reinstall hibari-tts)"
        return None

    @property
    def loaded(self) -> bool:
        return self._tts is not None

    def load(self, device: str) -> None:
        self.require_available()
        from core.ai.device import cpu_threads

        try:
            from hibari import SAMPLE_RATE, Hibari

            tts = Hibari(voice="heart", model=str(hibari_assets() / "hibari.onnx"), threads=min(2, cpu_threads()))
            if len(tts("Ready.", seed=0)) == 0:  # builds the G2P now, not on the first request
                raise RuntimeError("the model produced no audio for a test sentence")
        except ImportError as exc:
            raise self.unavailable(f"hibari-tts cannot be imported ({exc})") from None
        except (OSError, ValueError, RuntimeError) as exc:
            raise self.unavailable(f"could not load hibari: {exc}") from None
        self._tts, self.sample_rate = tts, SAMPLE_RATE
        self.device = "cpu"  # onnxruntime's CPU provider: hibari runs ~100x real time on one core

    def unload(self) -> None:
        self._tts = None
        self.device = ""

    def memory_bytes(self) -> int | None:
        assets = hibari_assets()
        return None if assets is None else file_bytes([assets / "hibari.onnx", assets / "oov.onnx"])

    def run(self, request: TextToSpeechRequest) -> AudioResult:
        if not isinstance(request, TextToSpeechRequest):
            raise self.bad_request(f"expected a text-to-speech request, got {type(request).__name__}")
        self.check_model(request)
        text = (request.text or "").strip()
        if not text:
            raise self.bad_request("Text input must be provided.")
        if len(text) > MAX_TEXT_CHARS:
            raise TooLarge(f"text-to-speech ({self.model_id}): the text has {len(text):,} characters; the limit is "
                           f"{MAX_TEXT_CHARS:,}. Split it into several requests.", pipeline=self.pipeline.value,
                           model_id=self.model_id)
        if self._tts is None:
            raise self.unavailable("the model is not loaded")
        from core.ai.media import encode_wav

        try:
            with self._lock:
                samples = self._tts(text, seed=random.randint(0, 2**31 - 1))
        except (RuntimeError, ValueError, KeyError) as exc:
            raise RunnerFailed(f"text-to-speech ({self.model_id}): hibari failed: {exc}",
                               pipeline=self.pipeline.value, model_id=self.model_id) from None
        if len(samples) == 0:
            raise self.bad_request(f"the text {text[:40]!r} holds nothing that can be spoken (no words)")
        return AudioResult(audio=Media(encode_wav(samples, self.sample_rate), "audio/wav", ".wav"))


def hibari_runner() -> HibariRunner:
    return HibariRunner()
