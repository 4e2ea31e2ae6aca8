"""A broken data dir gets one clear line and a non-zero exit, never a traceback, and nothing in it is
changed: a corrupt or truncated database, a settings file that is not UTF-8 or not TOML, a data dir
that cannot be made, and a read-only command pointed at a data dir that does not exist."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.store import StoreError, open_store

REPO = Path(__file__).resolve().parents[2]


def _lpc(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LPC_")}
    return subprocess.run([sys.executable, "-m", "console.cli", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def good_db(tmp_path_factory) -> bytes:
    d = tmp_path_factory.mktemp("good")
    store = open_store(d)
    with store.engine.begin() as conn:  # some pages beyond the schema, so a cut loses real data
        conn.exec_driver_sql("CREATE TABLE filler (x TEXT)")
        conn.exec_driver_sql("INSERT INTO filler VALUES " + ",".join(["('" + "x" * 500 + "')"] * 400))
    store.close()
    return (d / "lpc.sqlite3").read_bytes()


def _corrupt_dirs(tmp_path: Path, good_db: bytes) -> dict[str, Path]:
    dirs = {}
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "lpc.sqlite3").write_bytes(os.urandom(8192))
    dirs["garbage"] = garbage
    truncated = tmp_path / "truncated"
    truncated.mkdir()
    (truncated / "lpc.sqlite3").write_bytes(good_db[: len(good_db) // 3])
    dirs["truncated"] = truncated
    return dirs


@pytest.mark.parametrize("kind", ["garbage", "truncated"])
@pytest.mark.parametrize("command", [["tickets"], ["pricing", "show", "--node", "https://127.0.0.1:9"],
                                     ["pricing", "set", "1000", "--node", "https://127.0.0.1:9"]])
def test_corrupt_database_is_one_line_and_left_untouched(tmp_path, good_db, kind, command):
    data_dir = _corrupt_dirs(tmp_path, good_db)[kind]
    db = data_dir / "lpc.sqlite3"
    before = _digest(db)
    out = _lpc(data_dir, *command)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert "not a usable SQLite database" in out.stderr and "move it aside" in out.stderr
    assert _digest(db) == before


def test_open_store_refuses_a_corrupt_database_without_writing(tmp_path, good_db):
    db = tmp_path / "lpc.sqlite3"
    db.write_bytes(good_db[: len(good_db) // 3])
    before = _digest(db)
    with pytest.raises(StoreError, match="corrupt or truncated"):
        open_store(tmp_path)
    assert _digest(db) == before


@pytest.mark.parametrize("content, words", [(b"network = \"devnet\"\n# caf\xe9\n", "not UTF-8 text"),
                                            (b"network = [unclosed\n", "not valid TOML"),
                                            (b"network = \"moon\"\n", "network")])
@pytest.mark.parametrize("command", [["tickets"], ["account", "show"], ["devnet", "status"]])
def test_bad_settings_file_is_one_line_and_left_untouched(tmp_path, content, words, command):
    (tmp_path / "settings.toml").write_bytes(content)
    out = _lpc(tmp_path, *command)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert words in out.stderr and "settings.toml" in out.stderr
    assert (tmp_path / "settings.toml").read_bytes() == content


def test_read_only_commands_do_not_create_a_data_dir(tmp_path):
    missing = tmp_path / "nonexistent"
    for command in (["tickets"], ["pricing", "show", "--node", "https://127.0.0.1:9"]):
        out = _lpc(missing, *command)
        assert out.returncode != 0 and "Traceback" not in out.stderr
        assert "no data dir at" in out.stderr
        assert not missing.exists()


def test_a_data_dir_that_cannot_be_made_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    out = _lpc(blocker / "data", "pricing", "set", "1000", "--node", "https://127.0.0.1:9")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "cannot create the data dir" in out.stderr
    out = _lpc(blocker, "pricing", "set", "1000", "--node", "https://127.0.0.1:9")
    assert out.returncode != 0 and "Traceback" not in out.stderr and "is a file" in out.stderr
    assert blocker.read_text() == "in the way"
