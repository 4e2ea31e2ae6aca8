"""Network profiles: where the Livepeer protocol lives on each chain we support.

Only the Controller (and the two contracts mainnet does not register in it: the PollCreator and the
AI service registry) are configured; everything else is resolved from the Controller by name. The
ETH/USD price feed go-livepeer converts USD prices with (`-priceFeedAddr`) is not part of the protocol,
so it is configured too.
"""

from __future__ import annotations

from dataclasses import dataclass

MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"


@dataclass(frozen=True)
class NetworkProfile:
    name: str
    chain_id: int
    controller: str
    poll_creator: str
    ai_service_registry: str
    multicall3: str = MULTICALL3
    is_devnet: bool = False
    l1_block_seconds: float = 12.0  # round maths is in L1 blocks (~12 s each)
    price_feed: str | None = None  # Chainlink-compatible ETH/USD AggregatorV3 feed

    @property
    def label(self) -> str:
        return "DEVNET" if self.is_devnet else self.name


ARBITRUM_ONE = NetworkProfile(
    name="arbitrum-one",
    chain_id=42161,
    controller="0xD8E8328501E9645d16Cf49539efC04f734606ee4",
    poll_creator="0x8bb50806D60c492c0004DAD5D9627DAA2d9732E6",
    ai_service_registry="0x04C0b249740175999E5BF5c9ac1dA92431EF34C5",
    price_feed="0x639Fe6ab55C921f74e7fac1ee960C0B6293ba612",  # go-livepeer's default -priceFeedAddr
)
ARBITRUM_ONE_PUBLIC_RPC = "https://arb1.arbitrum.io/rpc"


def devnet_profile(controller: str, poll_creator: str, ai_service_registry: str, chain_id: int = 42161,
                   multicall3: str = MULTICALL3, price_feed: str | None = None) -> NetworkProfile:
    return NetworkProfile(
        name="devnet",
        chain_id=chain_id,
        controller=controller,
        poll_creator=poll_creator,
        ai_service_registry=ai_service_registry,
        multicall3=multicall3,
        is_devnet=True,
        price_feed=price_feed,
    )
