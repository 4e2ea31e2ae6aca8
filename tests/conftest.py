import ipaddress
import os
import socket
import sys

import pytest

# Snapshot tests compare colours: a NO_COLOR inherited from the environment would break them.
os.environ.pop("NO_COLOR", None)
# A COLUMNS or LINES in the environment (pytest-xdist workers have COLUMNS=80 LINES=24) is inherited by the
# `lpc` that tests start in a 160x45 tmux pane, and Textual then draws an 80x24 console in it.
for _size in ("COLUMNS", "LINES"):
    os.environ.pop(_size, None)

# No test may ask a DNS server anything: a name lookup that is not answered on this machine (an IP
# literal, localhost, this host's own name) is recorded by an audit hook and fails the test that made it.
# (The seeded devnet's service URIs, *.devnet.lpc, are not such names: tests that probe the seeded pool
# point it at a closed loopback port first, see tests/console/conftest.py unreachable_peers.)
_LOCAL_NAMES = {"localhost", "localhost.localdomain", socket.gethostname()}
_lookups_off_the_machine: list[str] = []


def _is_local(host) -> bool:
    if host is None:
        return True
    name = host.decode() if isinstance(host, (bytes, bytearray)) else str(host)
    if name in ("", *_LOCAL_NAMES):
        return True
    try:
        ipaddress.ip_address(name.strip("[]").split("%")[0])
    except ValueError:
        return False
    return True


def _audit(event: str, args) -> None:
    if event == "socket.getaddrinfo" and not _is_local(args[0]):
        _lookups_off_the_machine.append(str(args[0]))


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def no_dns_off_the_machine():
    _lookups_off_the_machine.clear()
    yield
    asked = sorted(set(_lookups_off_the_machine))
    _lookups_off_the_machine.clear()
    if asked:
        pytest.fail(f"this test looked up {', '.join(asked)} in DNS (it would leave the machine): use a "
                    "loopback address that fails locally, e.g. the unreachable_peers fixture", pytrace=False)


def pytest_make_parametrize_id(config, val, argname):
    """A bytes parameter longer than 64 bytes is named by its length, not its content: such ids are
    unreadable, and content made with os.urandom (a corrupt upload, a keystore's salt) differs between
    pytest-xdist workers, which then refuse to run the suite ("Different tests were collected")."""
    if isinstance(val, (bytes, bytearray)) and len(val) > 64:
        return f"{argname}-{len(val)}-bytes"
    return None


# Under pytest-xdist (`--dist loadfile`, as packaging/setup.sh test runs the suite) each test file runs on one
# worker, so a module's fixtures are built once. xdist hands out the files with the most tests first; these
# files have few tests but run for minutes, and handed out last they would leave one worker running them
# alone at the end. They are started first, longest first, and the short files fill the other worker around
# them. (Measured with --durations; a file missing from this run is passed over.)
LONG_FILES = (
    "tests/devnet/test_devnet_cli.py",  # one test deploys and seeds a whole network from scratch
    "tests/console/test_tmux_navigation.py",  # 289 key presses on a real lpc in tmux
    "tests/core/test_startup_refusals.py",
    "tests/core/test_doctor.py",
    "tests/ai_sdk/test_sdk_pipelines.py",  # the SDK venv and two lpc nodes with every bundled model loaded
    "tests/gateway/test_end_to_end.py",  # kill -9 of an orchestrator mid-stream, waits out its timeouts
    "tests/core/test_bad_data_dir.py",
    "tests/node/test_failed_transcode_memory.py",
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LongFilesFirst(LoadFileScheduling):
        def _assign_work_unit(self, node):
            for path in reversed(LONG_FILES):
                if path in self.workqueue:
                    self.workqueue.move_to_end(path, last=False)
            super()._assign_work_unit(node)

    return LongFilesFirst(config, log)
