from __future__ import annotations

import pytest

from core.media.synthetic import make_segment
from core.node import Node, NodeConfig
from tests.node.gateway import Gateway


@pytest.fixture(scope="session")
def clips() -> dict[str, bytes]:
    """1 s 30 fps H.264 MPEG-TS sources with moving content (the 640x360 one has AAC audio)."""
    return {
        "180p": make_segment(320, 180, 1.0),
        "360p": make_segment(640, 360, 1.0, audio=True),
        "720p": make_segment(1280, 720, 1.0),
    }


@pytest.fixture(scope="session")
def node_factory(tmp_path_factory):
    started: list[Node] = []

    def make(**overrides) -> tuple[Node, Gateway]:
        cfg = dict(
            data_dir=tmp_path_factory.mktemp("node"),
            service_addr="127.0.0.1:0",
            http_addr="127.0.0.1:0",
            cli_addr="127.0.0.1:0",
            max_sessions=4,
            encoder="x264",
            x264_preset="ultrafast",
            gateway_session_share=1.0,  # every test gateway is 127.0.0.1; test_sessions tests the share
        )
        cfg.update(overrides)
        node = Node(NodeConfig(**cfg))
        status = node.start()
        started.append(node)
        gw = Gateway("127.0.0.1", int(status.listening.rsplit(":", 1)[1]))
        return node, gw

    yield make
    for node in started:
        node.stop()


@pytest.fixture(scope="module")
def node_and_gateway(node_factory):
    return node_factory(price_per_unit=1200, pixels_per_unit=3, max_sessions=16)
