"""The checks `lpc doctor` runs. Each one only looks: nothing is created, migrated, unlocked, started,
stopped or cleaned up, so a broken installation is described exactly as it was found.

Every check gives a `Check`: a stable `name`, a status (ok, warn: works but worth knowing, fail: something
will not work), what was found and, unless ok, one line of what to do. No key material is read into a
message: the keyring check only asks whether the default account's key is there.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from core.settings import SETTINGS_FILE, Network, Settings, SettingsError, load_settings

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str  # stable key (the --json form is read by scripts)
    status: Status
    message: str  # what was found
    action: str = ""  # what to do about it; empty when ok

    def to_json(self) -> dict:
        return asdict(self)


def ok(name: str, message: str) -> Check:
    return Check(name, "ok", message)


def warn(name: str, message: str, action: str) -> Check:
    return Check(name, "warn", message, action)


def fail(name: str, message: str, action: str) -> Check:
    return Check(name, "fail", message, action)


# ------------------------------------------------------------------------------- data dir, settings, store


def check_data_dir(root: Path) -> Check:
    from core.settings import data_dir_problem

    if not root.exists():
        problem = data_dir_problem(root)
        if problem:
            return fail("data_dir", problem.partition(";")[0], "pick a folder this user can create with --data-dir")
        return warn("data_dir", f"there is no data dir at {root} yet",
                    "lpc makes it at the first start; if you expected one here, check --data-dir / LPC_DATA_DIR")
    if not root.is_dir():
        return fail("data_dir", f"the data dir {root} is a file, not a folder",
                    "move the file aside, or pick another folder with --data-dir")
    if not os.access(root, os.W_OK | os.X_OK):
        return fail("data_dir", f"the data dir {root} is not writable by this user",
                    f"give this user write access (chmod u+rwx {root}) or pick another folder with --data-dir")
    return ok("data_dir", f"{root} exists and is writable")


def check_settings(root: Path, network: str | None, rpc_url: str | None) -> tuple[Check, Settings | None]:
    """The check, and the settings the other checks use (None when they are invalid)."""
    path = root / SETTINGS_FILE
    try:
        settings = load_settings(root, network=network, rpc_url=rpc_url)
    except SettingsError as exc:
        return fail("settings", str(exc), "the checks below use the default settings until this is fixed"), None
    source = f"{path} is valid" if path.is_file() else f"no {SETTINGS_FILE} (the defaults apply)"
    return ok("settings", f"{source}; network {settings.network.value}"), settings


def check_database(root: Path) -> Check:
    from core.store import inspect_database

    if not root.is_dir():
        return warn("database", f"no database: there is no data dir at {root}", "lpc makes one at the first start")
    report = inspect_database(root)
    if not report.exists:
        return ok("database", f"no database yet in {root} (made when something is first recorded)")
    if report.problem:
        return fail("database", report.problem,
                    "move the file aside (lpc then starts a new one) or restore it from a backup; doctor changed nothing")
    if not report.known_revision:
        return fail("database", f"{report.path} is at schema {report.revision}, which this lpc does not know "
                                "(a newer lpc wrote it)",
                    "run the newer lpc, or restore a backup made with this version")
    if report.revision is None:
        return warn("database", f"{report.path} has no schema yet", "it is set up at the next start")
    if report.revision != report.head:
        return warn("database", f"{report.path} is at schema {report.revision}; this lpc's is {report.head}",
                    "it is upgraded at the next start: back the file up first if you may go back to the older lpc")
    return ok("database", f"{report.path}: integrity ok, schema {report.revision} (current)")


# ------------------------------------------------------------------------------- keyring


def check_keyring(settings: Settings | None) -> Check:
    from chain.wallet import KeyringUnavailable, WalletError
    from console.commands.wallet import open_wallet

    from chain.wallet.keyring_store import provide_keyring_with

    provide_keyring_with(None)  # doctor only looks: it never starts a keyring or asks for its password
    wallet = open_wallet()
    try:
        state = wallet.keyring_state()
    except KeyringUnavailable as exc:
        return _no_secret_service(exc)
    if state.has_collection is False:
        return warn("keyring", f"the keyring ({state.backend}) has no default collection yet",
                    "`lpc wallet new` or `lpc wallet import` creates it")
    if state.locked:
        return fail("keyring", f"the keyring ({state.backend}) is locked",
                    "unlock your login keyring (Seahorse; on a server `gnome-keyring-daemon --unlock`), then retry")
    preferred = settings.account if settings else None
    try:
        accounts = wallet.list()
        if not accounts:
            return warn("keyring", f"the keyring ({state.backend}) is unlocked but holds no lpc account",
                        "create one with `lpc wallet new` or add one with `lpc wallet import`")
        if not preferred and len(accounts) > 1:
            return warn("keyring", f"{len(accounts)} accounts in the keyring and none is the default",
                        "choose one with `lpc wallet use ADDRESS`")
        account = wallet.choose_account(preferred)
        wallet.check_key(account.address)
    except WalletError as exc:
        return fail("keyring", str(exc), "signing as the default account fails until this is fixed")
    return ok("keyring", f"{state.backend} unlocked; {len(accounts)} account(s); the key of the default account "
                         f"{account.address} is present")


def _no_secret_service(exc: Exception) -> Check:
    """No Secret Service on this session: fine on a server where lpc can start its own gnome-keyring
    (it asks for the password in a terminal), a failure where it cannot."""
    from chain.wallet.secret_service import login_keyring_file, missing_daemons

    missing = missing_daemons()
    if missing:
        return fail("keyring", f"{exc} (and {', '.join(missing)} not installed, so lpc cannot start one)",
                    "without a keyring nothing can be signed: install gnome-keyring and dbus (the set-up does)")
    path = login_keyring_file()
    where = f"the login keyring {path}" if path.exists() else f"a new login keyring at {path}"
    return warn("keyring", f"no Secret Service on this session; lpc in a terminal starts gnome-keyring on {where} "
                           "and asks for its password", "doctor does not ask for it: `lpc wallet list` in a terminal "
                                                         "unlocks it and shows the accounts")


# ------------------------------------------------------------------------------- chain


def check_chain(settings: Settings | None, root: Path) -> Check:
    if settings is not None and settings.network is not Network.DEVNET:
        return _check_rpc(settings)
    return _check_devnet(root)


def _check_devnet(root: Path) -> Check:
    """Read the devnet's record as it is (Devnet.status() would clear a stale one)."""
    from chain.devnet.anvil import pid_alive, rpc_call
    from chain.devnet.manager import Devnet, DevnetInfo

    record = Devnet(root).running_file
    start = "`lpc devnet up` starts it (the console starts it by itself)"
    try:
        info = DevnetInfo(**json.loads(record.read_text()))
    except (FileNotFoundError, NotADirectoryError):
        return warn("devnet", "the devnet of this data dir is not running", start)
    except (OSError, ValueError, TypeError) as exc:
        return warn("devnet", f"the devnet record {record} cannot be read ({exc})",
                    f"the next `lpc devnet up` replaces it; {start}")
    if not pid_alive(info.pid):
        return warn("devnet", f"the devnet is recorded at {info.rpc_url} (anvil pid {info.pid}) but that process is "
                              "gone", f"the next `lpc devnet up` clears the record; {start}")
    try:
        chain_id = int(rpc_call(info.rpc_url, "eth_chainId", timeout=3), 16)
        block = int(rpc_call(info.rpc_url, "eth_blockNumber", timeout=3), 16)
    except Exception as exc:  # noqa: BLE001 - any failure of the RPC is the finding
        return fail("devnet", f"anvil (pid {info.pid}) is running but {info.rpc_url} does not answer: {exc}",
                    "restart it with `lpc devnet down` and `lpc devnet up`")
    if chain_id != info.chain_id:
        return fail("devnet", f"{info.rpc_url} answers chain id {chain_id}, the devnet's is {info.chain_id} (another "
                              "node holds its port)", "stop the program on that port, then `lpc devnet up`")
    return ok("devnet", f"running at {info.rpc_url} (anvil pid {info.pid}); chain id {chain_id}, block {block}")


def _check_rpc(settings: Settings) -> Check:
    from chain.devnet.anvil import rpc_call
    from chain.network import ARBITRUM_ONE, ARBITRUM_ONE_PUBLIC_RPC

    url = settings.rpc_url or ARBITRUM_ONE_PUBLIC_RPC
    try:
        chain_id = int(rpc_call(url, "eth_chainId", timeout=5), 16)
    except Exception as exc:  # noqa: BLE001
        return fail("rpc", f"the JSON-RPC endpoint {url} does not answer: {exc}",
                    "check the network, or give another endpoint with --rpc-url / rpc_url in settings.toml")
    if chain_id != ARBITRUM_ONE.chain_id:
        return fail("rpc", f"{url} is chain id {chain_id}, not Arbitrum One ({ARBITRUM_ONE.chain_id})",
                    "give an Arbitrum One endpoint with --rpc-url")
    return ok("rpc", f"{url} answers; chain id {chain_id} (Arbitrum One)")


def check_anvil(settings: Settings | None) -> Check:
    from chain.devnet.anvil import DevnetError, check_anvil as check_version, find_anvil

    on_devnet = settings is None or settings.network is Network.DEVNET
    try:
        binary = find_anvil(settings.devnet.anvil_path if settings else None)
        version = check_version(binary)
    except DevnetError as exc:
        if on_devnet:
            return fail("anvil", str(exc), "the devnet cannot start without it")
        return warn("anvil", str(exc), "only the devnet needs anvil")
    return ok("anvil", f"anvil {version} at {binary}")


# ------------------------------------------------------------------------------- node ports


def check_ports(settings: Settings | None, root: Path) -> list[Check]:
    from core.node.config import NodeConfig, split_host_port
    from core.settings import NodeSettings

    node = settings.node if settings else NodeSettings()
    service_host, service_port = NodeConfig(data_dir=root, service_addr=node.service_addr,
                                            http_addr=node.http_addr).bind()
    if node.cli_addr is None:
        cli, status = None, None
    else:
        cli = split_host_port(node.cli_addr, 7935)
        status = _node_status(*cli)
    listening = split_host_port(status["listening"], 0)[1] if status and status.get("listening") else None
    checks = [_port_check("service_port", "service port", service_host, service_port,
                          held_by_node=listening == service_port, field="node.service_addr / node.http_addr")]
    if cli is None:
        checks.append(ok("cli_port", "the management port is off (node.cli_addr unset)"))
    else:
        checks.append(_port_check("cli_port", "management port", *cli, held_by_node=status is not None,
                                  field="node.cli_addr"))
    return checks


def _port_check(name: str, what: str, host: str, port: int, *, held_by_node: bool, field: str) -> Check:
    problem = _bind_problem(host, port)
    where = f"{host}:{port}"
    if problem is None:
        return ok(name, f"the {what} {where} is free for the node")
    if problem == errno.EADDRINUSE:
        if held_by_node:
            return ok(name, f"the {what} {where} is held by a running lpc node")
        return fail(name, f"the {what} {where} is in use by another program",
                    f"stop that program, or give the node another port ({field} in settings.toml)")
    return fail(name, f"the node cannot bind the {what} {where}: {os.strerror(problem)}",
                f"use an address of this machine ({field} in settings.toml)")


def _bind_problem(host: str, port: int) -> int | None:
    """None when (host, port) can be bound now, else the errno (EADDRINUSE: someone holds it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the node's server does
        try:
            s.bind((host or "0.0.0.0", port))
        except OSError as exc:
            return exc.errno or errno.EADDRINUSE
    return None


def _node_status(host: str, port: int) -> dict | None:
    """The /status of an lpc node's management port, or None when nothing like it answers there."""
    import httpx

    host = "127.0.0.1" if host in ("", "0.0.0.0") else f"[{host}]" if ":" in host else host
    try:
        r = httpx.get(f"http://{host}:{port}/status", timeout=2)
        data = r.json()
    except (httpx.HTTPError, ValueError):
        return None
    return data if r.status_code == 200 and isinstance(data, dict) and "listening" in data else None


# ------------------------------------------------------------------------------- media


def check_encoder() -> Check:
    import av

    from core.media.encoders import X264, probe_encoder

    choice = probe_encoder("auto")
    if choice.name == X264:
        try:
            av.codec.Codec(X264, "w")
        except Exception as exc:  # noqa: BLE001 - av raises its own UnknownCodecError
            return fail("encoder", f"no H.264 encoder: NVENC is unavailable and PyAV's FFmpeg has no libx264 ({exc})",
                        "reinstall with the set-up command (PyAV wheels include libx264)")
    return ok("encoder", f"{choice.label}: {choice.reason}")


def check_ffmpeg() -> Check:
    found = shutil.which("ffmpeg")
    if found is None:
        return warn("ffmpeg", "the ffmpeg command is not installed (the node itself uses PyAV's libraries)",
                    "only bench/transcode.py needs it: apt-get install ffmpeg")
    return ok("ffmpeg", f"ffmpeg at {found}")


def run_checks(root: Path, network: str | None, rpc_url: str | None) -> list[Check]:
    """Every check, in the order they are shown. A check that breaks is reported as failed, not raised."""
    settings_check, settings = check_settings(root, network, rpc_url)
    steps = [
        ("data_dir", lambda: [check_data_dir(root)]),
        ("settings", lambda: [settings_check]),
        ("database", lambda: [check_database(root)]),
        ("keyring", lambda: [check_keyring(settings)]),
        ("devnet", lambda: [check_chain(settings, root)]),
        ("anvil", lambda: [check_anvil(settings)]),
        ("ports", lambda: check_ports(settings, root)),
        ("encoder", lambda: [check_encoder()]),
        ("ffmpeg", lambda: [check_ffmpeg()]),
    ]
    checks: list[Check] = []
    for name, step in steps:
        try:
            checks.extend(step())
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
            checks.append(fail(name, f"the check itself failed: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}",
                               "report this as a bug, with the message"))
    return checks
