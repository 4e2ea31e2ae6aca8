"""What a gateway needs from the chain (the web3 side of core.gateway.onchain.GatewayChain): its address
and EIP-191 signatures over 32-byte hashes (tickets, GetOrchestrator, segments) from the keyring signer
the node uses, its TicketBroker funds, the protocol's clock (current round, L1 block) and the active
pool with service URIs and stake. Reads are cached for `ttl_s` (a segment every 2 s must not cost
three RPC round trips)."""

from __future__ import annotations

import threading
import time

from chain.client import ChainClient
from chain.reads import PoolCache, load_orchestrator_pool, load_round_info
from chain.services.deposit import load_sender


class Web3GatewayChain:
    def __init__(self, client: ChainClient, signer, *, ttl_s: float = 2.0):
        """`signer`: a chain.wallet.Signer (keyring) or any eth-account account (devnet dev keys)."""
        self._client = client
        self._signer = signer
        self._ttl = ttl_s
        self._lock = threading.Lock()
        self._cached: dict[str, tuple[float, object]] = {}
        self._pool_cache = PoolCache()
        self.address = bytes.fromhex(signer.address[2:])

    def sign_hash(self, hash32: bytes) -> bytes:
        from eth_account.messages import encode_defunct

        return bytes(self._signer.sign_message(encode_defunct(primitive=hash32)).signature)

    def _read(self, key: str, load):
        now = time.monotonic()
        with self._lock:
            hit = self._cached.get(key)
            if hit is not None and now - hit[0] < self._ttl:
                return hit[1]
        value = load()
        with self._lock:
            self._cached[key] = (now, value)
        return value

    def sender_funds(self):
        """chain.services.deposit.SenderInfo: deposit, reserve, withdraw_round …"""
        return self._read("funds", lambda: load_sender(self._client, self._signer.address))

    def clock(self) -> tuple[int, int]:
        """(current round, L1 block) as RoundsManager reports them."""
        info = self._read("round", lambda: load_round_info(self._client))
        return info.number, info.l1_block

    def active_pool(self):
        """chain.reads.Orchestrator rows (address, service_uri, total_stake, active) of the active set."""
        pool = self._read("pool", lambda: load_orchestrator_pool(self._client, cache=self._pool_cache))
        return [o for o in pool.orchestrators if o.active]

    def ai_service_uris(self, addresses) -> dict[str, str]:
        """address -> the URI it set in the AI ServiceRegistry ("" when none), one multicall round trip."""
        from chain.multicall import Call, aggregate

        addrs = tuple(addresses)
        if not addrs:
            return {}

        def load():
            ai = self._client.contract("AIServiceRegistry").functions
            values = aggregate(self._client.w3, self._client.profile.multicall3,
                               [Call.of(ai.getServiceURI(a)) for a in addrs])
            return dict(zip(addrs, values))

        return self._read("ai-uris:" + ",".join(addrs), load)

    def invalidate(self) -> None:
        with self._lock:
            self._cached.clear()
