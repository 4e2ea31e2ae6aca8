"""`lpc node --orchestrator --ai-worker`: go-livepeer's -aiWorker, -aiModels and -aiModelsDir are real flags,
--show-config shows what they became, a bad aiModels.json stops the start with the file, entry and field
(no traceback), and an AI-only node (no -transcoder) is accepted as go-livepeer accepts it."""

from __future__ import annotations

import json
import os

from click.testing import CliRunner

from console.cli import cli

CLEAN_ENV = {k: None for k in os.environ if k.startswith("LPC_")}


def _lpc(tmp_path, *args: str):
    return CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "node", *args], env=CLEAN_ENV)


def test_go_spellings_reach_the_config(tmp_path):
    models = tmp_path / "aiModels.json"
    models.write_text(json.dumps([{"pipeline": "upscale", "model_id": "realesrgan/realesr-animevideov3-x4",
                                   "warm": True, "capacity": 2}]))
    weights = tmp_path / "weights"
    r = _lpc(tmp_path, "-orchestrator", "-aiWorker", f"-aiModels={models}", "-aiModelsDir", str(weights),
             "-network", "offchain", "--show-config")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert "ai_worker = true" in lines
    assert f'ai_models = "{models}"' in lines
    assert f'ai_models_dir = "{weights}"' in lines
    assert "transcoding = false" in lines  # -aiWorker without -transcoder: an AI-only node
    assert "has no effect yet" not in r.output  # the three are real flags now


def test_lpc_spellings_and_the_default_models_dir(tmp_path):
    r = _lpc(tmp_path, "--orchestrator", "--transcoder", "--ai-worker",
             "--ai-models", "audio-to-text:openai/whisper-tiny.en:true", "--show-config")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert "ai_worker = true" in lines and "transcoding = true" in lines
    assert 'ai_models = "audio-to-text:openai/whisper-tiny.en:true"' in lines
    assert f'ai_models_dir = "{tmp_path / "models"}"' in lines  # go-livepeer's <datadir>/models


def test_a_bad_models_file_stops_the_start_naming_file_entry_and_field(tmp_path):
    models = tmp_path / "aiModels.json"
    models.write_text(json.dumps([
        {"pipeline": "upscale", "model_id": "realesrgan/realesr-animevideov3-x4", "warm": True},
        {"pipeline": "llm", "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct", "price_per_unit": "0.5e-2USD"},
    ]))
    r = _lpc(tmp_path, "-orchestrator", "-aiWorker", f"-aiModels={models}", "-network", "offchain")
    assert r.exit_code == 2, r.output
    assert str(models) in r.output and "price_per_unit" in r.output
    assert "Traceback" not in r.output
    r = _lpc(tmp_path, "-orchestrator", "-aiWorker", "-aiModels", "text-to-everything:x:true", "--show-config")
    assert r.exit_code == 2 and "text-to-everything" in r.output and "Traceback" not in r.output


def test_an_orchestrator_with_nothing_to_do_is_refused(tmp_path):
    r = _lpc(tmp_path, "--orchestrator", "--show-config")
    assert r.exit_code == 2
    assert "--transcoder (-transcoder), --ai-worker (-aiWorker), or both" in r.output
