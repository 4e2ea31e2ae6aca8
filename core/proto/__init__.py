"""The Livepeer wire protocol (protobuf package `net`), generated from lp_rpc.proto in this folder.

`lp_rpc_pb2` is generated code; edit lp_rpc.proto and regenerate (the command is at its top).
"""

from core.proto import lp_rpc_pb2 as net

__all__ = ["net"]
