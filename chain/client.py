"""A web3 connection to one network, with contracts resolved from its Controller by name."""

from __future__ import annotations

from functools import cached_property

from chain.abi import abi
from chain.network import NetworkProfile

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


class ChainError(RuntimeError):
    """A chain problem explained: what went wrong and what to do."""


class ChainIdMismatch(ChainError):
    pass


class ChainClient:
    def __init__(self, rpc_url: str, profile: NetworkProfile, *, timeout: float = 20.0):
        self.rpc_url = rpc_url
        self.profile = profile
        from web3 import Web3  # here, not at import: the console paints before anything needs web3

        self.w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
        self.w3.provider.cache_allowed_requests = True  # eth_chainId once, not before every eth_call
        self._addresses: dict[str, str] = {}

    def check_chain(self) -> int:
        """Raise ChainIdMismatch when the endpoint serves another chain than the profile's."""
        try:
            got = self.w3.eth.chain_id
        except Exception as exc:  # noqa: BLE001 - connection problems are reported in words
            raise ChainError(f"cannot reach the JSON-RPC endpoint {self.rpc_url}: {exc}") from None
        if got != self.profile.chain_id:
            raise ChainIdMismatch(
                f"{self.rpc_url} serves chain id {got}, but the {self.profile.name} profile expects "
                f"{self.profile.chain_id}; check --rpc-url / --network"
            )
        if not self.w3.eth.get_code(self.profile.controller):
            raise ChainError(
                f"no Livepeer Controller at {self.profile.controller} on {self.rpc_url}; "
                "is this the right network?"
            )
        return got

    @cached_property
    def controller(self):
        from eth_utils import to_checksum_address

        return self.w3.eth.contract(address=to_checksum_address(self.profile.controller), abi=abi("Controller"))

    def address(self, name: str) -> str:
        """The address registered in the Controller under keccak256(name) (cached per client)."""
        from eth_utils import keccak, to_checksum_address

        if name == "PollCreator":
            return to_checksum_address(self.profile.poll_creator)
        if name == "AIServiceRegistry":
            return to_checksum_address(self.profile.ai_service_registry)
        if name == "Multicall3":
            return to_checksum_address(self.profile.multicall3)
        if name not in self._addresses:
            addr = self.controller.functions.getContract(keccak(text=name)).call()
            if addr == ZERO_ADDRESS:
                raise ChainError(f"the Controller has no contract registered as {name!r}")
            self._addresses[name] = to_checksum_address(addr)
        return self._addresses[name]

    def contract(self, name: str, abi_name: str | None = None):
        abi_key = abi_name or {"AIServiceRegistry": "ServiceRegistry"}.get(name, name)
        return self.w3.eth.contract(address=self.address(name), abi=abi(abi_key))
