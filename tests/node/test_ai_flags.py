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


def test_lpc_node_runs_an_ai_only_orchestrator(tmp_path):
    """`lpc node -orchestrator -aiWorker` as its own process: it comes up without -transcoder, says which
    models it serves, and its /status lists them; SIGTERM stops it cleanly."""
    import signal
    import subprocess
    import sys
    import time

    import httpx

    from chain.devnet.anvil import free_port

    mgmt = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LPC_")}
    log = open(tmp_path / "node.log", "w+b")
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "--data-dir", str(tmp_path / "data"), "node", "-orchestrator", "-aiWorker",
         "-aiModels", "upscale:realesrgan/realesr-animevideov3-x4:true,text-to-image:acme/not-here:false",
         "-network", "offchain", f"-serviceAddr=127.0.0.1:{free_port()}", f"-cliAddr=127.0.0.1:{mgmt}"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{mgmt}/status", timeout=1).json()
                if status["running"] and all(m["state"] != "loading" for m in status["ai_models"]):
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
        assert status is not None and status["running"], (log.seek(0), log.read().decode())[1]
        models = {m["model_id"]: m for m in status["ai_models"]}
        assert models["realesrgan/realesr-animevideov3-x4"]["state"] == "warm"
        assert models["acme/not-here"]["state"] == "unavailable" and "acme/not-here" in models["acme/not-here"]["reason"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    log.seek(0)
    out = log.read().decode()
    assert "AI only (no -transcoder)" in out
    assert "AI upscale realesrgan/realesr-animevideov3-x4:" in out
    assert "Traceback" not in out
