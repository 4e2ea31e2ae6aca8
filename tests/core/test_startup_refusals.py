"""The rest of the broken-data-dir matrix: the bare `lpc` console, `lpc wallet list` and `lpc node
--offchain`, plus a database written by a newer lpc. Each either refuses with one line before anything
starts, or (where the data dir's database is not needed) works and leaves it untouched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chain.devnet.anvil import free_port
from core.store import StoreError, open_store
from core.store.db import verify_database
from tests.core.test_bad_data_dir import _digest, good_db  # noqa: F401  (fixture)
from tests.keyring_session import keyring_session, secret_service  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parents[2]
BAD_SETTINGS = [(b"network = \"devnet\"\n# caf\xe9\n", "not UTF-8 text"), (b"network = [unclosed\n", "not valid TOML"),
                (b"network = \"moon\"\n", "network")]


def _run(data_dir: Path, *args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """`lpc --data-dir DATA_DIR ARGS…` as a user runs it; stdin closed, so a console that starts would
    find no terminal and the timeout (not a hang) fails the test."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("LPC_")}
    return subprocess.run([sys.executable, "-m", "console.cli", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, cwd=REPO, env={**base, **(env or {})},
                          stdin=subprocess.DEVNULL, timeout=timeout)


def _one_line_refusal(out: subprocess.CompletedProcess, words: str) -> None:
    assert out.returncode == 1, (out.returncode, out.stderr)
    assert "Traceback" not in out.stderr and "\x1b[" not in out.stdout  # no console was drawn
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and words in lines[0], out.stderr


def _broken_db(data_dir: Path, good: bytes, kind: str) -> Path:
    db = data_dir / "lpc.sqlite3"
    if kind == "garbage":
        db.write_bytes(os.urandom(8192))
    elif kind == "truncated":
        db.write_bytes(good[: len(good) // 3])
    else:  # a sound database at a schema revision this lpc does not have
        db.write_bytes(good)
        import sqlite3

        conn = sqlite3.connect(db)
        with conn:
            conn.execute("UPDATE alembic_version SET version_num = '9999'")
        conn.close()
    return db


# ------------------------------------------------------------------------------- bare `lpc`


@pytest.mark.parametrize("kind, words", [("garbage", "not a usable SQLite database"),
                                         ("truncated", "not a usable SQLite database"),
                                         ("newer", "a newer lpc wrote it")])
def test_the_console_refuses_a_broken_database_before_it_starts(tmp_path, good_db, kind, words):
    db = _broken_db(tmp_path, good_db, kind)
    before = _digest(db)
    out = _run(tmp_path, env={"LPC_DEVNET__PORT": str(free_port())})
    _one_line_refusal(out, words)
    assert _digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lpc.sqlite3"]  # no devnet started, no -wal left


def test_the_console_refuses_a_database_that_is_a_folder(tmp_path):
    (tmp_path / "lpc.sqlite3").mkdir()
    (tmp_path / "lpc.sqlite3" / "kept").write_text("mine")
    _one_line_refusal(_run(tmp_path, env={"LPC_DEVNET__PORT": str(free_port())}), "is a folder, not a database")
    assert (tmp_path / "lpc.sqlite3" / "kept").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lpc.sqlite3"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into any folder")
def test_the_console_refuses_a_read_only_data_dir(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o555)
    try:
        _one_line_refusal(_run(data), "not writable")
    finally:
        data.chmod(0o755)


@pytest.mark.parametrize("content, words", BAD_SETTINGS)
def test_the_console_refuses_bad_settings_before_it_starts(tmp_path, content, words):
    (tmp_path / "settings.toml").write_bytes(content)
    out = _run(tmp_path)
    _one_line_refusal(out, words)
    assert (tmp_path / "settings.toml").read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.toml"]


@pytest.mark.parametrize("command", [[], ["devnet", "up"], ["devnet", "status"], ["devnet", "down"]])
def test_a_data_dir_that_cannot_be_made_is_one_line_before_anything_starts(tmp_path, command):
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    out = _run(blocker / "data", *command)
    _one_line_refusal(out, "cannot create the data dir")
    assert f"{blocker} is a file" in out.stderr
    assert blocker.read_text() == "in the way"


# ------------------------------------------------------------------------------- newer schema, other commands


def test_a_newer_schema_is_one_line_for_commands_that_open_the_store(tmp_path, good_db):
    db = _broken_db(tmp_path, good_db, "newer")
    before = _digest(db)
    _one_line_refusal(_run(tmp_path, "tickets"), "a newer lpc wrote it")
    with pytest.raises(StoreError, match="schema 9999"):
        open_store(tmp_path)
    with pytest.raises(StoreError, match="schema 9999"):
        verify_database(tmp_path)
    assert _digest(db) == before


def test_a_sound_database_passes_the_start_up_check_unchanged(tmp_path, good_db):
    db = tmp_path / "lpc.sqlite3"
    db.write_bytes(good_db)
    verify_database(tmp_path)
    verify_database(tmp_path / "nothing-here")  # no database yet: nothing to refuse, nothing made
    assert _digest(db) == _digest(db) and db.read_bytes() == good_db
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lpc.sqlite3"]


# ------------------------------------------------------------------------------- wallet list


@pytest.mark.parametrize("content, words", BAD_SETTINGS)
def test_wallet_list_still_lists_over_bad_settings_and_names_them(secret_service, tmp_path, content, words):
    from chain.wallet import Wallet

    info = Wallet().create(label="still here")
    (tmp_path / "settings.toml").write_bytes(content)
    out = _run(tmp_path, "wallet", "list", env=secret_service.env)
    assert out.returncode == 0 and "Traceback" not in out.stderr
    assert info.address in out.stdout and "still here" in out.stdout
    note = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(note) == 1 and "default account is unknown" in note[0] and words in note[0]
    assert "settings.toml" in note[0]
    assert (tmp_path / "settings.toml").read_bytes() == content


@pytest.mark.parametrize("kind", ["garbage", "truncated"])
def test_wallet_list_does_not_touch_a_broken_database(secret_service, tmp_path, good_db, kind):
    db = _broken_db(tmp_path, good_db, kind)
    before = _digest(db)
    out = _run(tmp_path, "wallet", "list", env=secret_service.env)
    assert out.returncode == 0 and "Traceback" not in out.stderr and "No accounts" in out.stdout
    assert _digest(db) == before


# ------------------------------------------------------------------------------- node --offchain

NODE = ("node", "--orchestrator", "--transcoder", "--offchain", "--encoder", "x264")


@pytest.mark.parametrize("content, words", BAD_SETTINGS)
def test_offchain_node_refuses_bad_settings(tmp_path, content, words):
    (tmp_path / "settings.toml").write_bytes(content)
    port = free_port()
    out = _run(tmp_path, *NODE, "--service-addr", f"127.0.0.1:{port}", "--http-addr", f"127.0.0.1:{port}",
               "--cli-addr", f"127.0.0.1:{free_port()}")
    _one_line_refusal(out, words)
    assert (tmp_path / "settings.toml").read_bytes() == content


@pytest.mark.parametrize("kind", ["garbage", "truncated"])
def test_offchain_node_leaves_a_broken_database_untouched(tmp_path, good_db, kind):
    """An offchain node keeps nothing in the database: it may serve, or refuse in one line, but it must
    never write to the file."""
    db = _broken_db(tmp_path, good_db, kind)
    before = _digest(db)
    port, cli = free_port(), f"127.0.0.1:{free_port()}"
    node = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "--data-dir", str(tmp_path), *NODE,
         "--service-addr", f"127.0.0.1:{port}", "--http-addr", f"127.0.0.1:{port}", "--cli-addr", cli],
        cwd=REPO, env={k: v for k, v in os.environ.items() if not k.startswith("LPC_")},
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        serving = _serving_or_exited(node, cli, timeout=60)
    finally:
        node.terminate()
        _out, err = node.communicate(timeout=30)
    assert "Traceback" not in err, err
    if serving:
        assert "node up (offchain)" in err
    else:
        assert "not a usable SQLite database" in err
    assert _digest(db) == before


def _serving_or_exited(node: subprocess.Popen, cli_addr: str, timeout: float) -> bool:
    """True once the node's /status answers, False if it exits first."""
    import time

    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if node.poll() is not None:
            return False
        try:
            if httpx.get(f"http://{cli_addr}/status", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the node neither served nor exited within {timeout} s")
