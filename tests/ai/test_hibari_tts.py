"""text-to-speech with hibari's bundled voice: real WAV, real speech, nothing downloaded."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from core.ai.ports import AudioResult, BadRequest, TextToSpeechRequest, TooLarge
from core.ai.runners.hibari_tts import MAX_TEXT_CHARS, hibari_runner


@pytest.fixture(scope="module")
def tts(tmp_path_factory):
    hibari_home = tmp_path_factory.mktemp("hibari-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HIBARI_HOME", str(hibari_home))  # where hibari would put a downloaded voice
        runner = hibari_runner()
        assert runner.available() is None
        runner.load("cpu")
        yield runner
        runner.unload()
    assert list(hibari_home.iterdir()) == [], "hibari downloaded a voice"


def speak(runner, text: str, **kw) -> AudioResult:
    return runner.run(TextToSpeechRequest(text=text, **kw))


def pcm(result: AudioResult) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(result.audio.data)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
        return frames, w.getframerate()


def test_speech_is_a_wav_of_plausible_length_and_not_silent(tts):
    text = "The quick brown fox jumps over the lazy dog."
    result = speak(tts, text)
    assert (result.audio.content_type, result.audio.extension) == ("audio/wav", ".wav")
    samples, rate = pcm(result)
    assert rate == 24000
    seconds = len(samples) / rate
    words = len(text.split())
    assert 0.2 * words <= seconds <= 1.5 * words, seconds
    assert float(np.sqrt(np.mean(samples ** 2))) > 0.02  # speech, not silence
    # the loudness moves: words and gaps, not a steady tone
    frames = samples[: len(samples) // 2400 * 2400].reshape(-1, 2400)
    loudness = np.sqrt((frames ** 2).mean(axis=1))
    assert loudness.max() > 4 * loudness.min()


def test_longer_text_makes_longer_speech(tts):
    short, _ = pcm(speak(tts, "Hello."))
    long, _ = pcm(speak(tts, "Hello. Livepeer runs video transcoding and artificial intelligence on an open network."))
    assert len(long) > 3 * len(short)


def test_the_voice_description_does_not_change_the_voice_or_fail(tts):
    samples, _ = pcm(speak(tts, "Good morning.", description="A deep male voice, whispering slowly."))
    assert float(np.sqrt(np.mean(samples ** 2))) > 0.02


@pytest.mark.parametrize("text", ["", "   \n "])
def test_empty_text_is_refused(tts, text):
    with pytest.raises(BadRequest, match=r"text-to-speech \(hibari-tts/heart\): Text input must be provided\.") as err:
        speak(tts, text)
    assert (err.value.pipeline, err.value.model_id) == ("text-to-speech", "hibari-tts/heart")


def test_text_over_the_limit_is_too_large(tts):
    with pytest.raises(TooLarge, match=r"4,001 characters; the limit is 4,000"):
        speak(tts, "a" * (MAX_TEXT_CHARS + 1))


def test_another_model_id_is_refused(tts):
    with pytest.raises(BadRequest, match="configured with hibari-tts/heart but called with parler-tts/parler-tts-large-v1"):
        speak(tts, "Hi.", model_id="parler-tts/parler-tts-large-v1")
