"""The orchestrator/transcoder node: gRPC + HTTP service on one TLS port, sessions, transcoding, metrics.

Build a `Node` from a `NodeConfig`; `start()` runs it on its own event loop thread, `status()` returns an
immutable snapshot for the console, `stop()` ends it.
"""

from core.node.config import NodeConfig
from core.node.node import Node
from core.node.status import NodeStatus, SessionStatus

__all__ = ["Node", "NodeConfig", "NodeStatus", "SessionStatus"]
