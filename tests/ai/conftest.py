"""Real inputs for the AI runner tests: speech spoken by espeak-ng (a formant synthesiser, not one of the
models under test), real images, and one model cache per machine.

Derived model files (Whisper base joined, SmolLM2 de-quantised) go to LPC_AI_CACHE when it is set, else
<tmp>/lpc-test-model-cache: kept between sessions so only the first session pays SmolLM2's ~24 s
conversion, and never the user's own cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("LPC_AI_CACHE", str(Path(tempfile.gettempdir()) / "lpc-test-model-cache"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

FOX = "the quick brown fox jumps over the lazy dog"
LIVEPEER = "Livepeer runs video transcoding and artificial intelligence on an open network."


def _espeak(text: str, path: Path, *, rate: int = 150) -> bytes:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    subprocess.run(["espeak-ng", "-s", str(rate), "-w", str(path), text], check=True, capture_output=True)
    return path.read_bytes()


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def fox_wav(speech_dir) -> bytes:
    """espeak-ng saying FOX then LIVEPEER: about 6 s of 22.05 kHz WAV."""
    return _espeak(f"{FOX}. {LIVEPEER}", speech_dir / "fox.wav")


@pytest.fixture(scope="session")
def espeak(speech_dir):
    """espeak(text, name) -> WAV bytes."""
    return lambda text, name: _espeak(text, speech_dir / name)
