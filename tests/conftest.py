import ipaddress
import os
import socket
import sys

import pytest

# Snapshot tests compare colours: a NO_COLOR inherited from the environment would break them.
os.environ.pop("NO_COLOR", None)

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
