"""-maxPricePerCapability in USD (go-livepeer's "currency" field): the gateway's AI limit follows the ETH/USD
price feed of the devnet (a real anvil and the seeded feed contract), converted when a request is placed."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from core.ai.ports import ModelUnavailable, Pipeline
from core.gateway.ai_pool import AIPool, MaxPriceError, parse_max_prices
from tests.payments.conftest import client, devnet_dir, settings  # noqa: F401 - fixtures

ANIME = "realesrgan/realesr-animevideov3-x4"
LIMITS = json.dumps({"capabilities_prices": [
    {"pipeline": "upscale", "model_id": ANIME, "price_per_unit": 3e-12, "currency": "USD"},
    {"pipeline": "llm", "price_per_unit": 40}]})


def test_a_usd_limit_follows_the_devnet_price_feed(client):  # noqa: F811
    from chain.services.price_feed import PriceFeedReader
    from core.payments.feed import PriceFeedWatcher

    feed = PriceFeedWatcher(PriceFeedReader(client))
    usd_per_eth = feed.refresh().price
    pool = AIPool(("127.0.0.1:1",), max_prices=parse_max_prices(LIMITS), rates=feed)
    assert pool.max_price(Pipeline.UPSCALE, ANIME) == Fraction("3e-12") * 10**18 / usd_per_eth
    assert pool.max_price(Pipeline.LLM, "any-model") == 40  # a wei limit stays as given
    assert pool.view()["MaxPricePerCapability"][f"upscale/{ANIME}"] == "0.000000000003USD"

    # a feed that has not answered: the request is refused in words, not placed without a limit
    silent = AIPool(("127.0.0.1:1",), max_prices=parse_max_prices(LIMITS), rates=PriceFeedWatcher(PriceFeedReader(client)))
    with pytest.raises(ModelUnavailable, match="in USD and cannot be converted to wei now") as exc:
        silent.max_price(Pipeline.UPSCALE, ANIME)
    assert exc.value.status == 503


def test_a_usd_limit_without_a_feed_is_refused_at_start():
    with pytest.raises(MaxPriceError, match="prices in USD need the ETH price feed"):
        AIPool(("127.0.0.1:1",), max_prices=parse_max_prices(LIMITS), rates=None)
