"""`lpc doctor` on real broken installations: corrupt and outdated databases, bad settings, a missing or
read-only data dir, a real keyring (empty, locked, a key gone), a real devnet and a real node holding
its ports. It must say what is wrong, exit 1 when something fails, and change nothing."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import keyring
import pytest

from chain.devnet.anvil import free_port
from console.commands import doctor_checks
from core.settings import load_settings
from core.store import open_store
from tests.keyring_session import keyring_session, secret_service  # noqa: F401  (fixtures)
from tests.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
NAMES = ["data_dir", "settings", "database", "keyring", "devnet", "anvil", "service_port", "cli_port",
         "encoder", "ffmpeg"]


def _env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LPC_")}
    return {**env, **(extra or {})}


def _lpc(data_dir: Path, *args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "console.cli", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, env=env or _env(), cwd=REPO, timeout=timeout)


def _doctor(data_dir: Path, env: dict | None = None) -> tuple[int, dict]:
    out = _lpc(data_dir, "doctor", "--json", env=env)
    assert "Traceback" not in out.stderr, out.stderr
    return out.returncode, json.loads(out.stdout)


def _by_name(report: dict) -> dict[str, dict]:
    return {c["name"]: c for c in report["checks"]}


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes: what 'nothing changed' is checked against."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def good_db(tmp_path_factory) -> bytes:
    d = tmp_path_factory.mktemp("good")
    store = open_store(d)
    with store.engine.begin() as conn:  # pages beyond the schema, so a cut loses real data
        conn.exec_driver_sql("CREATE TABLE filler (x TEXT)")
        conn.exec_driver_sql("INSERT INTO filler VALUES " + ",".join(["('" + "x" * 500 + "')"] * 400))
    store.close()
    return (d / "lpc.sqlite3").read_bytes()


# ------------------------------------------------------------------------------- the command


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_database_fails_the_doctor_and_is_left_as_it_was(tmp_path, good_db, damage):
    db = tmp_path / "lpc.sqlite3"
    db.write_bytes(os.urandom(8192) if damage == "garbage" else good_db[: len(good_db) // 3])
    before = _snapshot(tmp_path)
    code, report = _doctor(tmp_path)
    assert code == 1 and report["ok"] is False
    check = _by_name(report)["database"]
    assert check["status"] == "fail"
    assert "not a usable SQLite database" in check["message"] and str(db) in check["message"]
    assert "move the file aside" in check["action"]
    assert _snapshot(tmp_path) == before  # no -wal/-shm left, the file not touched


def test_json_shape_is_stable_and_a_sound_database_passes(tmp_path, good_db):
    (tmp_path / "lpc.sqlite3").write_bytes(good_db)
    before = _snapshot(tmp_path)
    code, report = _doctor(tmp_path)
    assert set(report) == {"data_dir", "ok", "counts", "checks"}
    assert report["data_dir"] == str(tmp_path)
    assert [c["name"] for c in report["checks"]] == NAMES
    for c in report["checks"]:
        assert set(c) == {"name", "status", "message", "action"}
        assert c["status"] in ("ok", "warn", "fail") and c["message"]
        assert bool(c["action"]) == (c["status"] != "ok")
    assert report["counts"] == {s: sum(c["status"] == s for c in report["checks"]) for s in ("ok", "warn", "fail")}
    assert report["ok"] == (report["counts"]["fail"] == 0) and code == (0 if report["ok"] else 1)
    database = _by_name(report)["database"]
    assert database["status"] == "ok" and "integrity ok" in database["message"]
    assert _snapshot(tmp_path) == before


def test_the_text_form_names_each_check_and_what_to_do(tmp_path):
    (tmp_path / "settings.toml").write_bytes(b"network = \"moon\"\n")
    out = _lpc(tmp_path, "doctor")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    line = next(ln for ln in out.stdout.splitlines() if " settings " in ln)
    assert "FAIL" in line and "network" in line
    assert "→ the checks below use the default settings" in out.stdout
    assert out.stdout.rstrip().splitlines()[-1].endswith("failed")


def test_bad_settings_fail_but_every_other_check_still_runs(tmp_path):
    content = b"network = \"devnet\"\n# caf\xe9\n"
    (tmp_path / "settings.toml").write_bytes(content)
    code, report = _doctor(tmp_path)
    assert code == 1
    settings = _by_name(report)["settings"]
    assert settings["status"] == "fail" and "not UTF-8 text" in settings["message"]
    assert [c["name"] for c in report["checks"]] == NAMES
    assert (tmp_path / "settings.toml").read_bytes() == content


def test_a_missing_data_dir_is_reported_and_not_created(tmp_path):
    missing = tmp_path / "nonexistent"
    _code, report = _doctor(missing)
    checks = _by_name(report)
    assert checks["data_dir"]["status"] == "warn" and "no data dir at" in checks["data_dir"]["message"]
    assert checks["database"]["status"] == "warn"
    assert not missing.exists()


def test_a_data_dir_that_is_a_file_fails(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    check = doctor_checks.check_data_dir(blocker)
    assert check.status == "fail" and "is a file" in check.message and "--data-dir" in check.action
    below = doctor_checks.check_data_dir(blocker / "data")
    assert below.status == "fail" and "cannot create the data dir" in below.message
    assert blocker.read_text() == "in the way"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into any folder")
def test_a_read_only_data_dir_fails(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o555)
    try:
        check = doctor_checks.check_data_dir(data)
    finally:
        data.chmod(0o755)
    assert check.status == "fail" and "not writable" in check.message


def test_a_database_that_is_a_folder_fails(tmp_path):
    (tmp_path / "lpc.sqlite3").mkdir()
    check = doctor_checks.check_database(tmp_path)
    assert check.status == "fail" and "is a folder, not a database" in check.message


# ------------------------------------------------------------------------------- database versions


def _set_revision(data_dir: Path, revision: str) -> None:
    conn = sqlite3.connect(data_dir / "lpc.sqlite3")
    with conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    conn.close()


def test_an_older_schema_is_a_warning_and_is_not_upgraded(tmp_path, good_db):
    (tmp_path / "lpc.sqlite3").write_bytes(good_db)
    _set_revision(tmp_path, "0003")
    before = _snapshot(tmp_path)
    check = doctor_checks.check_database(tmp_path)
    assert check.status == "warn" and "schema 0003" in check.message and "upgraded at the next start" in check.action
    assert _snapshot(tmp_path) == before


def test_a_schema_from_a_newer_lpc_fails(tmp_path, good_db):
    (tmp_path / "lpc.sqlite3").write_bytes(good_db)
    _set_revision(tmp_path, "9999")
    check = doctor_checks.check_database(tmp_path)
    assert check.status == "fail" and "does not know" in check.message and "9999" in check.message


def test_a_damaged_page_inside_a_whole_file_is_found(tmp_path, good_db):
    """The header is fine and the size is right, but a table page in the middle is overwritten."""
    page_size = int.from_bytes(good_db[16:18], "big")
    damaged = bytearray(good_db)
    middle = (len(good_db) // page_size // 2) * page_size
    damaged[middle:middle + page_size] = b"\xff" * page_size
    (tmp_path / "lpc.sqlite3").write_bytes(bytes(damaged))
    check = doctor_checks.check_database(tmp_path)
    assert check.status == "fail" and "not a usable SQLite database" in check.message


# ------------------------------------------------------------------------------- keyring


def _settings(tmp_path: Path, **env: str):
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return load_settings(tmp_path)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_keyring_without_a_secret_service_says_lpc_starts_its_own(tmp_path):
    home = tmp_path / "home"
    env = _env({"DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path / 'no-bus'}", "HOME": str(home),
                "XDG_DATA_HOME": str(home / "data")})
    _code, report = _doctor(tmp_path / "data", env=env)
    check = _by_name(report)["keyring"]
    assert check["status"] == "warn" and "no Secret Service" in check["message"]
    assert f"a new login keyring at {home / 'data' / 'keyrings' / 'login.keyring'}" in check["message"]
    assert not (home / "data").exists()  # nothing started, nothing created


def test_a_session_bus_that_could_start_a_keyring_is_asked_without_starting_it(tmp_path):
    """A server's own session bus (systemd --user, dbus-run-session) can start gnome-keyring on demand;
    doctor must not be what starts it."""
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import Proxy, open_dbus_connection

    home = tmp_path / "home"
    home.mkdir()
    env = _env({"HOME": str(home), "XDG_DATA_HOME": str(home / "data")})
    for k in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL"):
        env.pop(k, None)
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        address = bus.stdout.readline().strip()
        _code, report = _doctor(tmp_path / "data", env={**env, "DBUS_SESSION_BUS_ADDRESS": address})
        with open_dbus_connection(bus=address) as conn:
            started = Proxy(message_bus, conn, timeout=3).NameHasOwner("org.freedesktop.secrets")[0]
    finally:
        bus.terminate()
        bus.wait(timeout=10)
        bus.stdout.close()
    check = _by_name(report)["keyring"]
    assert check["status"] == "warn" and "no Secret Service" in check["message"], check
    assert not started  # the bus did not start gnome-keyring for doctor


def test_keyring_without_a_secret_service_or_the_daemons_fails(tmp_path):
    bare_path = tmp_path / "bin"
    bare_path.mkdir()
    env = _env({"DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path / 'no-bus'}", "PATH": str(bare_path)})
    _code, report = _doctor(tmp_path / "data", env=env)
    check = _by_name(report)["keyring"]
    assert check["status"] == "fail" and "no OS keyring available" in check["message"]
    assert "gnome-keyring-daemon" in check["message"] and "install gnome-keyring" in check["action"]


def test_keyring_unlocked_with_no_account_is_a_warning(secret_service, tmp_path):
    _code, report = _doctor(tmp_path, env=_env(secret_service.env))
    check = _by_name(report)["keyring"]
    assert check["status"] == "warn" and "holds no lpc account" in check["message"]
    assert "lpc wallet new" in check["action"]


def test_keyring_with_the_default_key_present_passes_and_never_shows_it(secret_service, tmp_path):
    from chain.wallet import Wallet
    from eth_account import Account

    key = bytes(Account.create().key).hex()
    info = Wallet().import_hex(key)
    out = _lpc(tmp_path, "doctor", "--json", env=_env(secret_service.env))
    check = _by_name(json.loads(out.stdout))["keyring"]
    assert check["status"] == "ok" and info.address in check["message"] and "present" in check["message"]
    assert key not in out.stdout and key not in out.stderr
    assert key.upper() not in out.stdout.upper()


def test_keyring_with_the_default_key_gone_fails(secret_service, tmp_path):
    from chain.wallet import SERVICE, Wallet

    info = Wallet().create()
    keyring.delete_password(SERVICE, f"account:{info.address}")
    check = doctor_checks.check_keyring(_settings(tmp_path, LPC_ACCOUNT=info.address))
    assert check.status == "fail" and "missing from the keyring" in check.message


def test_a_locked_keyring_fails_and_stays_locked(secret_service, tmp_path):
    from chain.wallet import Wallet

    Wallet().create()
    secret_service.lock()
    _code, report = _doctor(tmp_path, env=_env(secret_service.env))
    check = _by_name(report)["keyring"]
    assert check["status"] == "fail" and "is locked" in check["message"] and "unlock" in check["action"]
    assert secret_service.is_locked()  # asked, not unlocked


# ------------------------------------------------------------------------------- devnet


def test_a_stale_devnet_record_is_reported_and_kept(tmp_path):
    record = tmp_path / "devnet" / "devnet.json"
    record.parent.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    record.write_text(json.dumps({
        "rpc_url": "http://127.0.0.1:9", "chain_id": 42161, "controller": "0x" + "1" * 40,
        "poll_creator": "0x" + "2" * 40, "ai_service_registry": "0x" + "3" * 40, "multicall3": "0x" + "4" * 40,
        "pid": dead.pid, "port": 9, "started_at": 0.0}))
    before = record.read_bytes()
    check = doctor_checks.check_chain(load_settings(tmp_path), tmp_path)
    assert check.status == "warn" and "process is gone" in check.message
    assert record.read_bytes() == before  # `lpc devnet status` would have deleted it


def test_a_running_devnet_answers_with_its_chain_id(tmp_path):
    port = free_port()
    up = _lpc(tmp_path, "devnet", "up", "--port", str(port), "--block-time", "0", "--json", timeout=240)
    assert up.returncode == 0, up.stderr
    try:
        chain_id = json.loads(up.stdout.strip().splitlines()[-1])["chain_id"]
        check = doctor_checks.check_chain(load_settings(tmp_path), tmp_path)
        assert check.status == "ok", check
        assert f"chain id {chain_id}" in check.message and f"127.0.0.1:{port}" in check.message
    finally:
        assert _lpc(tmp_path, "devnet", "down").returncode == 0


# ------------------------------------------------------------------------------- ports


def test_ports_held_by_another_program_fail(tmp_path):
    with socket.socket() as service, socket.socket() as management:
        for s in (service, management):
            s.bind(("127.0.0.1", 0))
            s.listen()
        service_addr = f"127.0.0.1:{service.getsockname()[1]}"
        cli_addr = f"127.0.0.1:{management.getsockname()[1]}"
        settings = _settings(tmp_path, LPC_NODE__SERVICE_ADDR=service_addr, LPC_NODE__HTTP_ADDR=service_addr,
                             LPC_NODE__CLI_ADDR=cli_addr)
        checks = {c.name: c for c in doctor_checks.check_ports(settings, tmp_path)}
    assert checks["service_port"].status == "fail" and "in use by another program" in checks["service_port"].message
    assert service_addr in checks["service_port"].message
    assert checks["cli_port"].status == "fail" and cli_addr in checks["cli_port"].message


def test_free_ports_pass(tmp_path):
    service_addr, cli_addr = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    settings = _settings(tmp_path, LPC_NODE__SERVICE_ADDR=service_addr, LPC_NODE__HTTP_ADDR=service_addr,
                         LPC_NODE__CLI_ADDR=cli_addr)
    checks = doctor_checks.check_ports(settings, tmp_path)
    assert [c.status for c in checks] == ["ok", "ok"] and all("free" in c.message for c in checks)


def test_ports_held_by_a_running_lpc_node_pass(tmp_path):
    service_addr, cli_addr = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    node = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "--data-dir", str(tmp_path), "node", "--orchestrator", "--transcoder",
         "--offchain", "--service-addr", service_addr, "--http-addr", service_addr, "--cli-addr", cli_addr,
         "--max-sessions", "1", "--encoder", "x264"],
        cwd=REPO, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def answers():
            try:
                return httpx.get(f"http://{cli_addr}/status", timeout=1).status_code == 200
            except httpx.HTTPError:
                assert node.poll() is None, "the node exited"
                return False

        wait_for(answers, 60, "the node's /status", interval=0.1)
        settings = _settings(tmp_path, LPC_NODE__SERVICE_ADDR=service_addr, LPC_NODE__HTTP_ADDR=service_addr,
                             LPC_NODE__CLI_ADDR=cli_addr)
        checks = {c.name: c for c in doctor_checks.check_ports(settings, tmp_path)}
    finally:
        node.terminate()
        node.wait(timeout=20)
    for name in ("service_port", "cli_port"):
        assert checks[name].status == "ok" and "held by a running lpc node" in checks[name].message, checks[name]
