"""Console tests with a running on-chain node: the launcher's node factory on free ports (x264 ultrafast,
every ticket wins) and a funded gateway paying that node."""

from __future__ import annotations

from chain.devnet.accounts import dev_account
from console.launch import node_factory
from core.payments.config import PaymentConfig
from tests.payments.conftest import GATEWAY
from tests.payments.gateway import PayingGateway

FACE = 10**17  # ticket EV = max face value: every ticket wins


def onchain_factory(services, tmp_path, **payment):
    """The launcher's node factory with node.offchain = false, on free ports, x264 ultrafast, its SQL store
    in tmp_path (the devnet data dir is shared by the session)."""
    settings = services.settings.model_copy(
        update={"node": services.settings.node.model_copy(update={"offchain": False})})
    services.settings = settings
    pc = PaymentConfig(**{"poll_s": 0.1, "reward": False, "redeem_backoff_s": 0.1, "reward_poll_s": 0.2,
                          "ticket_ev": FACE, "max_face_value": FACE, **payment})
    return node_factory(settings, services, payment_config=pc, store_dir=tmp_path / "store",
                        data_dir=tmp_path / "node", service_addr="127.0.0.1:0", http_addr="127.0.0.1:0",
                        cli_addr=None, max_sessions=4, encoder="x264", x264_preset="ultrafast", price_per_unit=2)


def gateway_for(services) -> PayingGateway:
    port = int(services.node.status().listening.rsplit(":", 1)[1])
    return PayingGateway("127.0.0.1", port, dev_account(GATEWAY))
