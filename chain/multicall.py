"""Batched reads: Multicall3 `aggregate3`, a deployless pool walk, and a JSON-RPC round-trip counter.

A read of many fields is one `eth_call` to Multicall3 (at its usual address on Arbitrum One and on
the devnet). Very large batches are split into chunks that travel in one JSON-RPC batch, so they still
cost one HTTP round trip. The transcoder pool is a linked list that cannot be walked by independent
calls; `walk_pool` runs the init code of a never-deployed contract (chain/contracts_src/PoolWalker.sol)
in an `eth_call` without `to`: its constructor walks the list and returns it, in one round trip.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator, Sequence

if TYPE_CHECKING:
    from web3 import Web3

AGGREGATE_CHUNK = 400  # calls per aggregate3 eth_call (keeps each call far below RPC gas caps)
POOL_WALK_LIMIT = 1_000

# solc 0.8.37, optimizer 200 runs, evm cancun; tests/chain/test_reads.py recompiles the source and
# compares.
POOL_WALKER_INITCODE = "0x608060405234801561000f575f5ffd5b5060405161050f38038061050f83398101604081905261002e916103f0565b604051631c2d8fb360e31b81527f2517d59a36a86548e38734e8ab416f42afff4bca78706a66ad65750dae7f9e37600482015282905f906001600160a01b0383169063e16c7d9890602401602060405180830381865afa158015610094573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906100b8919061041a565b604051631c2d8fb360e31b81527fe8438ea868df48e3fc21f2f087b993c9b1837dc0f6135064161ce7d7a1701fe860048201529091505f906001600160a01b0384169063e16c7d9890602401602060405180830381865afa15801561011f573d5f5f3e3d5ffd5b505050506040513d601f19601f82011682018060405250810190610143919061041a565b604051631c2d8fb360e31b81527f79c5d2a4a07754f4bacb0ffba18ac516030ee589ebc89db8627680c4d4cdb23060048201529091505f906001600160a01b0385169063e16c7d9890602401602060405180830381865afa1580156101aa573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906101ce919061041a565b90505f856001600160401b038111156101e9576101e961043a565b604051908082528060200260200182016040528015610212578160200160208202803683370190505b5090505f5f90505f856001600160a01b03166388a6c7496040518163ffffffff1660e01b8152600401602060405180830381865afa158015610256573d5f5f3e3d5ffd5b505050506040513d601f19601f8201168201806040525081019061027a919061041a565b90505b6001600160a01b0381161580159061029457508782105b1561034257808383815181106102ac576102ac61044e565b6001600160a01b0390921660209283029190910190910152816102ce81610462565b60405163235c960360e01b81526001600160a01b038481166004830152919450908816915063235c960390602401602060405180830381865afa158015610317573d5f5f3e3d5ffd5b505050506040513d601f19601f8201168201806040525081019061033b919061041a565b905061027d565b8183525f856001600160a01b0316638a19c8bc6040518163ffffffff1660e01b8152600401602060405180830381865afa158015610382573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906103a69190610486565b8786866040516020016103bc949392919061049d565b6040516020818303038152906040529050805160208201f35b80516001600160a01b03811681146103eb575f5ffd5b919050565b5f5f60408385031215610401575f5ffd5b61040a836103d5565b6020939093015192949293505050565b5f6020828403121561042a575f5ffd5b610433826103d5565b9392505050565b634e487b7160e01b5f52604160045260245ffd5b634e487b7160e01b5f52603260045260245ffd5b5f6001820161047f57634e487b7160e01b5f52601160045260245ffd5b5060010190565b5f60208284031215610496575f5ffd5b5051919050565b8481526001600160a01b03848116602080840191909152908416604083015260806060830181905283519083018190525f9184019060a0840190835b818110156105005783516001600160a01b03168352602093840193909201916001016104d9565b50909897505050505050505056fe"


class MulticallError(RuntimeError):
    pass


@dataclass(frozen=True)
class Call:
    """One read: target, calldata, the ABI types to decode, and whether a revert is acceptable."""

    target: str
    data: bytes
    output_types: tuple[str, ...]
    allow_failure: bool = False
    label: str = ""

    @classmethod
    def of(cls, fn, *, allow_failure: bool = False) -> "Call":
        """A Call from a bound web3 contract function, e.g. `Call.of(bm.functions.getDelegator(a))`.

        Encodes with eth_abi directly (web3's own encoder is ~10x slower, which shows on 400-call batches)."""
        from eth_abi import encode

        inputs, outputs, selector = _abi_shape(fn.abi)
        return cls(
            target=fn.address,
            data=selector + encode(list(inputs), list(fn.args)),
            output_types=outputs,
            allow_failure=allow_failure,
            label=fn.fn_name,
        )


_SHAPES: dict[str, tuple[tuple[str, ...], tuple[str, ...], bytes]] = {}


def _abi_shape(fn_abi: dict) -> tuple[tuple[str, ...], tuple[str, ...], bytes]:
    from eth_utils import keccak
    from eth_utils.abi import get_abi_input_types, get_abi_output_types

    key = json.dumps(fn_abi, sort_keys=True)
    shape = _SHAPES.get(key)
    if shape is None:
        inputs = tuple(get_abi_input_types(fn_abi))
        shape = (inputs, tuple(get_abi_output_types(fn_abi)),
                 keccak(text=f"{fn_abi['name']}({','.join(inputs)})")[:4])
        _SHAPES[key] = shape
    return shape


_FAILED = object()
_AGGREGATE3 = bytes.fromhex("82ad56cb")  # keccak("aggregate3((address,bool,bytes)[])")[:4]


def failed(value: Any) -> bool:
    """True for the result of an allowed-to-fail call that reverted."""
    return value is _FAILED


def _checksummed(abi_type, value: Any) -> Any:
    """eth_abi decodes addresses in lower case; the rest of lpc uses checksummed ones."""
    from eth_abi.grammar import TupleType
    from eth_utils import to_checksum_address

    if abi_type.is_array:
        return tuple(_checksummed(abi_type.item_type, v) for v in value)
    if isinstance(abi_type, TupleType):
        return tuple(_checksummed(c, v) for c, v in zip(abi_type.components, value))
    if getattr(abi_type, "base", None) == "address":
        return to_checksum_address(value)
    return value


def _unwrap(output_types: tuple[str, ...], raw: bytes) -> Any:
    from eth_abi import decode
    from eth_abi.grammar import parse

    values = tuple(_checksummed(parse(t), v) for t, v in zip(output_types, decode(list(output_types), raw)))
    return values[0] if len(values) == 1 else tuple(values)


def aggregate(w3: Web3, multicall3: str, calls: Sequence[Call], *, block: str | int = "latest") -> list[Any]:
    """Run `calls` through Multicall3.aggregate3 in one round trip; decoded values in order.

    A single-valued function yields its value; a multi-valued one a tuple. A reverted call with
    `allow_failure` yields a marker (test it with `failed`); without it, MulticallError is raised.
    """
    from eth_abi import decode, encode
    from eth_utils import to_checksum_address

    if not calls:
        return []
    target = to_checksum_address(multicall3)
    chunks = [calls[i : i + AGGREGATE_CHUNK] for i in range(0, len(calls), AGGREGATE_CHUNK)]
    requests = [
        {"to": target, "data": "0x" + (_AGGREGATE3 + encode(["(address,bool,bytes)[]"],
                                                              [[(c.target, True, c.data) for c in chunk]])).hex()}
        for chunk in chunks
    ]
    if len(requests) == 1:
        raws = [w3.eth.call(requests[0], block)]
    else:
        with w3.batch_requests() as batch:
            for req in requests:
                batch.add(w3.eth.call(req, block))
            raws = batch.execute()
    out: list[Any] = []
    for chunk, raw in zip(chunks, raws):
        (results,) = decode(["(bool,bytes)[]"], bytes(raw))
        for call, (ok, data) in zip(chunk, results):
            if ok and (data or not call.output_types):
                try:
                    out.append(_unwrap(call.output_types, data))
                    continue
                except Exception:  # noqa: BLE001 - undecodable data counts as a failure
                    ok = False
            if not call.allow_failure:
                raise MulticallError(f"the batched read {call.label or call.target} reverted")
            out.append(_FAILED)
    return out


@dataclass(frozen=True)
class PoolWalk:
    round: int
    bonding_manager: str
    service_registry: str
    addresses: tuple[str, ...]


def walk_pool(w3: Web3, controller: str, *, limit: int = POOL_WALK_LIMIT, block: str | int = "latest") -> PoolWalk:
    """The transcoder pool in order (highest stake first) and the current round, in one `eth_call`."""
    from eth_abi import decode, encode
    from eth_utils import to_checksum_address

    args = encode(["address", "uint256"], [to_checksum_address(controller), limit])
    raw = w3.eth.call({"data": POOL_WALKER_INITCODE + args.hex()}, block)
    rnd, bm, sr, pool = decode(["uint256", "address", "address", "address[]"], bytes(raw))
    return PoolWalk(
        round=rnd,
        bonding_manager=to_checksum_address(bm),
        service_registry=to_checksum_address(sr),
        addresses=tuple(to_checksum_address(a) for a in pool),
    )


# ------------------------------------------------------------------------ counting round trips


@dataclass
class RoundTrips:
    """HTTP requests made to the node (a JSON-RPC batch is one), and the JSON-RPC calls inside them."""

    requests: int = 0
    calls: int = 0
    methods: list[str] | None = None

    def __post_init__(self) -> None:
        self.methods = []


@contextmanager
def count_round_trips(w3: Web3) -> Iterator[RoundTrips]:
    """Count the HTTP round trips `w3` makes inside the block (tests, bench/chain_reads.py).

    Counts at the HTTP session, below web3's middleware and request caching, so every POST to the
    node is seen exactly once (a JSON-RPC batch is one POST)."""

    session = w3.provider._request_session_manager
    stats = RoundTrips()
    original = session.make_post_request

    def counted(endpoint_uri, data, **kwargs):
        stats.requests += 1
        try:
            body = json.loads(data)
            items = body if isinstance(body, list) else [body]
            stats.calls += len(items)
            stats.methods.extend(str(i.get("method")) for i in items)
        except (ValueError, TypeError, AttributeError):
            stats.calls += 1
        return original(endpoint_uri, data, **kwargs)

    patched_before = "make_post_request" in vars(session)
    session.make_post_request = counted
    try:
        yield stats
    finally:
        if patched_before:
            session.make_post_request = original
        else:
            del session.make_post_request
