"""Asking orchestrators for their price the way a gateway does (GetOrchestrator over TLS, trust on first
use) — what the Pricing screen's network table shows — against real nodes: an offchain node answers
anyone; an on-chain node answers a signed request with the price it offers that address, and refuses an
unsigned one with the reason; an address nobody listens on is "unknown" with why, never a guessed price."""

from __future__ import annotations

import shutil
import subprocess
import sys
from fractions import Fraction

import pytest

from chain.devnet.accounts import dev_account
from chain.devnet.anvil import free_port
from core.gateway.discovery import probe
from core.node import Node, NodeConfig
from core.payments.tickets import HashSigner
from tests.payments.conftest import GATEWAY
from tests.payments.conftest import FACE


def _uri(node) -> str:
    return f"https://127.0.0.1:{node.status().listening.rsplit(':', 1)[1]}"


def test_an_offchain_node_answers_with_its_flag_price(tmp_path):
    node = Node(NodeConfig(data_dir=tmp_path, service_addr="127.0.0.1:0", http_addr="127.0.0.1:0", cli_addr=None,
                           max_sessions=2, encoder="x264", x264_preset="ultrafast", price_per_unit=1200,
                           pixels_per_unit=3))
    node.start()
    try:
        assert probe(_uri(node), None, None) == (Fraction(400), "from its OrchestratorInfo")
    finally:
        node.stop()


def test_an_onchain_node_answers_a_signed_request_and_refuses_an_unsigned_one(onchain_node):
    node, parts = onchain_node(ticket_ev=FACE // 1000, max_face_value=FACE, price_per_unit=1000)
    gateway = HashSigner(bytes(dev_account(GATEWAY).key))  # a seeded gateway with a deposit and a reserve
    price, note = probe(_uri(node), gateway.address, gateway.sign_message)
    assert note == "from its OrchestratorInfo"
    overhead = Fraction(1_200_000 * parts.payments.state.view().gas_price, FACE)
    assert price == 1000 * (1 + overhead)  # the base price plus the redemption overhead it adds
    price, note = probe(_uri(node), None, None)
    assert price is None and note.startswith("refused:") and "requests are signed with its key" in note


def test_nobody_listening_is_unknown_with_the_reason():
    price, note = probe(f"https://127.0.0.1:{free_port()}", None, None)
    assert price is None and note.startswith("no TLS answer")


def test_a_host_that_does_not_resolve_is_unknown_with_the_reason():
    """The devnet's own names (*.devnet.lpc) never resolve. The lookup is made in a network namespace with no
    network at all (`unshare -rn`), so it fails on this machine and no DNS server is asked."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-rn", "true"],
                                                         capture_output=True).returncode != 0:
        pytest.skip("unshare -rn (an unprivileged network namespace) is not available here")
    code = ("from core.gateway.discovery import probe; "
            "print(probe('https://atlas-video.devnet.lpc:8935', None, None))")
    out = subprocess.run(["unshare", "-rn", sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(None, 'its host does not resolve (DNS)')"


def test_a_host_name_no_resolver_accepts_is_unknown_with_the_reason():
    """A hostile or mistyped registered URI (a 64-character label) is refused before any lookup: it used to
    raise UnicodeError out of the probe (and the Pricing screen's table lost every answer)."""
    price, note = probe(f"https://{'a' * 64}.example:8935", None, None)
    assert price is None and note == f"no usable service URI (https://{'a' * 64}.example:8935)"
