"""The gateway's AI pool rules (core/gateway/ai_pool.py) on real net.OrchestratorInfo messages, shaped as
an AI orchestrator fills them (constraints.PerCapability[cap].models[model] and capabilities_prices):
what an orchestrator offers, the order a request tries orchestrators in, which model "" means, and
-maxPricePerCapability."""

from __future__ import annotations

from fractions import Fraction

import pytest

from core.ai.ports import CAPABILITY_ID, Pipeline
from core.gateway.ai_pool import (AIOrchestrator, MaxPriceError, ai_request_capabilities, most_served,
                                  offers_of, parse_max_prices, rank)
from core.payments.pricing import PriceAmount
from core.proto import net

UPSCALE, LLM = Pipeline.UPSCALE, Pipeline.LLM
ANIME, PLUS = "realesrgan/realesr-animevideov3-x4", "realesrgan/RealESRGAN_x4plus"


def info(models: dict[Pipeline, dict[str, tuple[bool, int, int]]], prices: dict[tuple[Pipeline, str], tuple[int, int]] = {},
         *, bits: set[int] | None = None, price_info: tuple[int, int] | None = None,
         transcoder: str = "https://127.0.0.1:8935") -> net.OrchestratorInfo:
    """An OrchestratorInfo offering `models` (pipeline -> model -> (warm, idle capacity, in use))."""
    caps = net.Capabilities()
    want = {CAPABILITY_ID[p] for p in models} if bits is None else bits
    words = [0] * 2
    for b in want:
        words[b // 64] |= 1 << (b % 64)
    caps.bitstring.extend(words)
    for p, ms in models.items():
        for m, (warm, capacity, in_use) in ms.items():
            mc = caps.constraints.PerCapability[CAPABILITY_ID[p]].models[m]
            mc.warm, mc.capacity, mc.capacityInUse, mc.runnerVersion = warm, capacity, in_use, "lpc"
    out = net.OrchestratorInfo(transcoder=transcoder, address=bytes(20), capabilities=caps)
    for (p, m), (ppu, pixels) in prices.items():
        out.capabilities_prices.append(net.PriceInfo(pricePerUnit=ppu, pixelsPerUnit=pixels,
                                                     capability=CAPABILITY_ID[p], constraint=m))
    if price_info is not None:
        out.price_info.CopyFrom(net.PriceInfo(pricePerUnit=price_info[0], pixelsPerUnit=price_info[1]))
    return out


def orch(uri: str, latency: float, i: net.OrchestratorInfo) -> AIOrchestrator:
    return AIOrchestrator(uri, i, latency, offers_of(i))


def test_offers_carry_warm_capacity_and_the_models_own_price():
    i = info({UPSCALE: {ANIME: (True, 2, 1), PLUS: (False, 1, 0)}, LLM: {"HuggingFaceTB/SmolLM2-135M-Instruct": (True, 1, 0)}},
             {(UPSCALE, ANIME): (3, 1), (UPSCALE, PLUS): (10, 4)})
    offers = offers_of(i)
    assert set(offers) == {(UPSCALE, ANIME), (UPSCALE, PLUS), (LLM, "HuggingFaceTB/SmolLM2-135M-Instruct")}
    a = offers[(UPSCALE, ANIME)]
    assert (a.warm, a.capacity, a.in_use, a.runner_version, a.price) == (True, 2, 1, "lpc", Fraction(3))
    assert offers[(UPSCALE, PLUS)].price == Fraction(10, 4) and not offers[(UPSCALE, PLUS)].warm
    assert offers[(LLM, "HuggingFaceTB/SmolLM2-135M-Instruct")].price is None  # no price: free (offchain)


def test_a_constraint_without_its_capability_bit_is_no_offer():
    i = info({UPSCALE: {ANIME: (True, 1, 0)}, LLM: {"m": (True, 1, 0)}}, bits={CAPABILITY_ID[LLM]})
    assert set(offers_of(i)) == {(LLM, "m")}


def test_price_info_is_the_price_only_of_what_was_asked():
    i = info({UPSCALE: {ANIME: (True, 1, 0), PLUS: (True, 1, 0)}}, price_info=(7, 1))
    asked = offers_of(i, asked=(UPSCALE, ANIME))
    assert asked[(UPSCALE, ANIME)].price == 7 and asked[(UPSCALE, PLUS)].price is None


def test_request_capabilities_name_the_pipeline_bit_and_the_model():
    caps = ai_request_capabilities(UPSCALE, ANIME)
    assert caps.bitstring[0] == 1 << 30
    assert list(caps.constraints.PerCapability[30].models) == [ANIME]
    assert not ai_request_capabilities(LLM).constraints.PerCapability


def test_order_is_warm_then_price_then_latency_and_the_suspended_last():
    cold_cheap = orch("https://a:1", 0.01, info({UPSCALE: {ANIME: (False, 1, 0)}}, {(UPSCALE, ANIME): (1, 1)}))
    warm_dear = orch("https://b:1", 0.01, info({UPSCALE: {ANIME: (True, 1, 0)}}, {(UPSCALE, ANIME): (9, 1)}))
    warm_cheap_slow = orch("https://c:1", 0.5, info({UPSCALE: {ANIME: (True, 1, 0)}}, {(UPSCALE, ANIME): (2, 1)}))
    warm_cheap_fast = orch("https://d:1", 0.1, info({UPSCALE: {ANIME: (True, 1, 0)}}, {(UPSCALE, ANIME): (2, 1)}))
    other_model = orch("https://e:1", 0.0, info({UPSCALE: {PLUS: (True, 1, 0)}}))
    pool = [cold_cheap, warm_dear, warm_cheap_slow, warm_cheap_fast, other_model]
    got, dear = rank(pool, UPSCALE, ANIME, None, {})
    assert [c.orch.uri for c in got] == ["https://d:1", "https://c:1", "https://b:1", "https://a:1"]
    assert dear == []
    got, _ = rank(pool, UPSCALE, ANIME, None, {"https://d:1": "HTTP 500"})
    assert [c.orch.uri for c in got][-1] == "https://d:1" and got[-1].suspended == "HTTP 500"


def test_max_price_leaves_out_the_dear_and_says_what_they_ask():
    a = orch("https://a:1", 0.0, info({UPSCALE: {ANIME: (True, 1, 0)}}, {(UPSCALE, ANIME): (5, 1)}))
    b = orch("https://b:1", 0.0, info({UPSCALE: {ANIME: (True, 1, 0)}}, {(UPSCALE, ANIME): (50, 1)}))
    got, dear = rank([a, b], UPSCALE, ANIME, Fraction(10), {})
    assert [c.orch.uri for c in got] == ["https://a:1"]
    assert dear == ["https://127.0.0.1:8935 asks 50 wei per unit"]


def test_model_for_empty_id_is_the_one_most_serve_warm():
    one = orch("https://a:1", 0, info({UPSCALE: {PLUS: (True, 1, 0), ANIME: (False, 1, 0)}}))
    two = orch("https://b:1", 0, info({UPSCALE: {ANIME: (True, 1, 0)}}))
    three = orch("https://c:1", 0, info({UPSCALE: {ANIME: (True, 1, 0)}}))
    assert most_served([one, two, three], UPSCALE) == ANIME
    assert most_served([one], UPSCALE) == PLUS  # warm beats cold
    assert most_served([one, two], LLM) is None


def test_max_prices_parse_as_go_livepeer_writes_them(tmp_path):
    text = ('{"capabilities_prices": [{"pipeline": "upscale", "model_id": "%s", "price_per_unit": 100, '
            '"pixels_per_unit": 4}, {"pipeline": "llm", "price_per_unit": 0.5}]}' % ANIME)
    assert parse_max_prices(text) == {(UPSCALE, ANIME): PriceAmount(Fraction(25)),
                                      (LLM, "default"): PriceAmount(Fraction(1, 2))}
    f = tmp_path / "prices.json"
    f.write_text(text)
    assert parse_max_prices(str(f)) == parse_max_prices(text)
    assert parse_max_prices(None) == {}


@pytest.mark.parametrize("text, words", [
    ('{"capabilities_prices": [{"pipeline": "text-to-song", "price_per_unit": 1}]}', "unknown pipeline 'text-to-song'"),
    ('{"capabilities_prices": [{"pipeline": "llm", "price_per_unit": "cheap"}]}', "must be numbers"),
    ('{"capabilities_prices": [{"pipeline": "llm", "price_per_unit": 1, "currency": "U$D"}]}', "not a currency"),
    ('{"prices": []}', 'expected {"capabilities_prices"'),
    ('{"capabilities_prices": [', "not JSON"),
    ("/no/such/file.json", "neither JSON nor a readable file"),
])
def test_max_price_errors_say_what_is_wrong(text, words):
    with pytest.raises(MaxPriceError, match="-maxPricePerCapability") as exc:
        parse_max_prices(text)
    assert words in str(exc.value)
