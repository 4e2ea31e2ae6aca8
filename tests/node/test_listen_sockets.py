"""The node's and gateway's listening sockets hand out connections with Nagle off. asyncio turns it off only
for sockets whose proto is IPPROTO_TCP; ours are made with proto 0, so each plain-HTTP answer (headers and
body in two writes) used to wait ~40 ms for the client's delayed ACK (bench/ai.py: text-to-speech +67 ms
through the gateway before, +38 ms after)."""

from __future__ import annotations

import socket

from core.node.node import _bind


def test_accepted_connections_have_nagle_off():
    listener = _bind("127.0.0.1", 0)
    listener.setblocking(True)
    client = socket.create_connection(listener.getsockname(), timeout=5)
    try:
        accepted, _ = listener.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        client.close()
        listener.close()
