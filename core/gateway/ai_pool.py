"""Which AI orchestrators serve which models, and the order a request tries them in (go-livepeer's
AISessionManager / AISessionSelector, `server/ai_session.go`; ai-gateway-wire.md §2).

What an orchestrator offers is read from its OrchestratorInfo (`offers_of`):
- `capabilities.constraints.PerCapability[cap].models[model]` = ModelConstraint(warm, capacity (idle
  slots, as go-livepeer fills it), runnerVersion, capacityInUse), for each batch capability 27..36
  whose bit is set in `capabilities.bitstring` (a constraint without its bit is not an offer);
- the price of (cap, model): the `capabilities_prices` entry with that capability and `constraint` =
  the model; else the entry for the capability with an empty constraint; else `price_info` when the
  GetOrchestrator request asked for exactly that capability and model (go-livepeer answers the price
  of the requested capabilities there); else none (offchain: free). Wei per unit = pricePerUnit ÷
  pixelsPerUnit; units are per pipeline (core/ai/units.py).

Discovery (`AIPool.refresh`): GetOrchestrator to every candidate at once (the `-orchAddr` list, and the
webhook's or the chain's pool through `more_candidates`), with `ignoreCapacityCheck` (a busy
orchestrator still says what it serves) and the capability bit of the pipeline plus a constraint for
the model when one is named. The answers are kept per (pipeline, model) for `refresh_s` (30 s), 5 s
when some candidate did not answer and 1 s when none did (an orchestrator that is starting or
restarting is found by the next request); a request with no fresh answers waits for one refresh.

Order (`AIPool.candidates`): those offering the model, priced within the limit (-maxPricePerCapability
for (pipeline, model), else its "default" entry for the pipeline, else -maxPricePerUnit; none: any
price), warm before cold, then by price, then by GetOrchestrator latency. A suspended orchestrator
(network error or 5xx, `suspend`) is left out for `suspend_s` (30 s; go-livepeer counts refreshes,
lpc counts seconds because AI requests are not a steady stream) unless nobody else offers the model:
then it is tried last. "insufficient capacity" suspends nobody (ai_api.py moves on).

Model "" (the SDK always sends it: trap 3): the model most of the pool serves warm for the pipeline
(ties: most serving at all, then name); ai_api.py names it in `X-Livepeer-Model`. A named model that
nobody offers is ModelUnavailable naming the models that are offered: never another model.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from core.ai.ports import CAPABILITY_ID, PIPELINE_OF_CAPABILITY, ModelUnavailable, Pipeline, pipeline_of
from core.gateway.discovery import Unreachable, get_orchestrator, orch_uri
from core.payments.pricing import WEI, PriceAmount, PriceError
from core.proto import net

log = logging.getLogger(__name__)

REFRESH_S = 30.0
REFRESH_PARTIAL_S = 5.0  # some candidate did not answer: ask again sooner (it may be restarting)
REFRESH_EMPTY_S = 1.0  # nobody answered: a request a second later asks again
SUSPEND_S = 30.0
DISCOVERY_CUTOFF_S = 6.0
ZERO_ADDRESS = bytes(20)


# ------------------------------------------------------------------------------------------ offers
@dataclass(frozen=True)
class ModelOffer:
    """One model one orchestrator offers for one pipeline."""

    pipeline: Pipeline
    model_id: str
    warm: bool
    capacity: int  # idle slots as advertised (go-livepeer: capacity - in use)
    in_use: int
    runner_version: str
    price: Fraction | None  # wei per unit; None = no price given (offchain: free)

    def price_text(self) -> str:
        if self.price is None or self.price == 0:
            return "0"
        return f"{self.price.numerator}/{self.price.denominator} wei per unit" if self.price.denominator != 1 \
            else f"{self.price.numerator} wei per unit"


def _has_bit(words, bit: int) -> bool:
    word = bit // 64
    return word < len(words) and bool(words[word] >> (bit % 64) & 1)


def offers_of(info: net.OrchestratorInfo, asked: tuple[Pipeline, str] | None = None) -> dict[tuple[Pipeline, str], ModelOffer]:
    """Every (pipeline, model) the answer offers (the rules are in the module docstring). `asked`: the
    (pipeline, model) the GetOrchestrator request named, whose price may be in `price_info`."""
    caps = info.capabilities
    prices: dict[tuple[int, str], Fraction] = {}
    for p in info.capabilities_prices:
        if p.pixelsPerUnit > 0 and p.pricePerUnit >= 0:
            prices[(p.capability, p.constraint)] = Fraction(p.pricePerUnit, p.pixelsPerUnit)
    general = None
    if info.HasField("price_info") and info.price_info.pixelsPerUnit > 0 and info.price_info.pricePerUnit >= 0:
        general = Fraction(info.price_info.pricePerUnit, info.price_info.pixelsPerUnit)
    out: dict[tuple[Pipeline, str], ModelOffer] = {}
    for cap, constraint in caps.constraints.PerCapability.items():
        pipeline = PIPELINE_OF_CAPABILITY.get(cap)
        if pipeline is None or not _has_bit(caps.bitstring, cap):
            continue
        for model_id, m in constraint.models.items():
            if not model_id:
                continue
            price = prices.get((cap, model_id), prices.get((cap, "")))
            if price is None and asked == (pipeline, model_id):
                price = general
            out[(pipeline, model_id)] = ModelOffer(pipeline, model_id, bool(m.warm), int(m.capacity),
                                                   int(m.capacityInUse), m.runnerVersion, price)
    return out


def ai_request_capabilities(pipeline: Pipeline, model_id: str = "") -> net.Capabilities:
    """The capabilities of an AI GetOrchestrator request: the pipeline's bit, and a constraint for the
    model when one is named (go-livepeer's gateway sends exactly the capability and model it needs)."""
    cap = CAPABILITY_ID[pipeline]
    words = [0] * (cap // 64 + 1)
    words[cap // 64] |= 1 << (cap % 64)
    msg = net.Capabilities(bitstring=words)
    msg.capacities[cap] = 1
    if model_id:
        msg.constraints.PerCapability[cap].models[model_id].CopyFrom(net.Capabilities.CapabilityConstraints.ModelConstraint())
    return msg


# ------------------------------------------------------------------------------------------ max prices
class MaxPriceError(ValueError):
    """-maxPricePerCapability could not be used; the message says what is wrong and where."""


def parse_max_prices(value: str | None) -> dict[tuple[Pipeline, str], PriceAmount]:
    """go-livepeer's -maxPricePerCapability: a JSON text or the path of a JSON file,
    `{"capabilities_prices": [{"pipeline", "model_id" ("default" = every model), "price_per_unit",
    "pixels_per_unit" (1), "currency" ("" or "WEI", or the price feed's quote currency: "USD")}]}` ->
    (pipeline, model) -> the most per unit, in wei or that currency (converted when used: AIPool.max_price).
    A price of 0 or less is no limit for that entry. MaxPriceError with the entry and field."""
    if value is None or not value.strip():
        return {}
    text = value.strip()
    where = "-maxPricePerCapability"
    if not text.startswith("{"):
        path = Path(text).expanduser()
        try:
            text = path.read_text()
        except OSError as exc:
            raise MaxPriceError(f"{where}: {value!r} is neither JSON nor a readable file ({exc.strerror})") from None
        where = f"-maxPricePerCapability {path}"
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MaxPriceError(f"{where}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    entries = doc.get("capabilities_prices") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise MaxPriceError(f'{where}: expected {{"capabilities_prices": [ ... ]}}')
    out: dict[tuple[Pipeline, str], Fraction] = {}
    for i, e in enumerate(entries):
        at = f"{where}: entry {i}"
        if not isinstance(e, dict):
            raise MaxPriceError(f"{at} is not an object")
        try:
            pipeline = pipeline_of(str(e.get("pipeline", "")))
        except ValueError as exc:
            raise MaxPriceError(f"{at}: pipeline: {exc}") from None
        model = str(e.get("model_id") or "default")
        currency = str(e.get("currency") or "").upper() or WEI
        if not currency.isalpha() or len(currency) > 8:
            raise MaxPriceError(f"{at}: currency {currency!r} is not a currency name (USD) or WEI")
        try:
            price = Fraction(str(e.get("price_per_unit", 0)))
            pixels = int(e.get("pixels_per_unit", 1) or 1)
        except (ValueError, TypeError, ZeroDivisionError):
            raise MaxPriceError(f"{at}: price_per_unit and pixels_per_unit must be numbers") from None
        if pixels <= 0:
            raise MaxPriceError(f"{at}: pixels_per_unit must be 1 or more")
        if price > 0:
            out[(pipeline, model)] = PriceAmount(price / pixels, currency)
    return out


# ------------------------------------------------------------------------------------------ the pool
@dataclass(eq=False)
class AIOrchestrator:
    uri: str  # as discovered: https://host:port (what -orchAddr names)
    info: net.OrchestratorInfo
    latency_s: float
    offers: dict[tuple[Pipeline, str], ModelOffer]
    at: float = field(default_factory=time.monotonic)

    @property
    def transcoder(self) -> str:
        return self.info.transcoder.rstrip("/")

    @property
    def address(self) -> str:
        return "0x" + bytes(self.info.address).hex().rjust(40, "0")


@dataclass(frozen=True)
class Candidate:
    orch: AIOrchestrator
    offer: ModelOffer
    suspended: str = ""  # why it was suspended, when it is tried only as a last resort


class AIPool:
    """The gateway's AI orchestrators, per pipeline. Thread-safe; blocking (GetOrchestrator over gRPC):
    ai_api.py calls it off the event loop."""

    def __init__(self, orch_addrs: tuple[str, ...] = (), *, max_prices: dict[tuple[Pipeline, str], PriceAmount] | None = None,
                 rates=None,
                 max_price_per_unit: Callable[[], Fraction | None] = lambda: None,
                 more_candidates: Callable[[], list[str]] | None = None,
                 request: Callable[[net.Capabilities], net.OrchestratorRequest] | None = None,
                 discovery_timeout_s: float = 0.5, refresh_s: float = REFRESH_S, suspend_s: float = SUSPEND_S,
                 blocklist: tuple[str, ...] = ()):
        self._addrs = [orch_uri(a) for a in orch_addrs if a.strip()]
        self._max_prices = dict(max_prices or {})
        # the ETH price feed (core.payments.pricing.Rates) for max prices in a currency; None offchain
        self._rates = rates
        in_currency = sorted({a.currency for a in self._max_prices.values() if a.currency != WEI})
        if in_currency and rates is None:
            raise MaxPriceError(f"-maxPricePerCapability: prices in {', '.join(in_currency)} need the ETH price feed "
                                "(-priceFeedAddr, on chain): give them in wei or configure the feed")
        self._max_price_per_unit = max_price_per_unit
        self._more = more_candidates
        self._request = request or self._offchain_request
        self.discovery_timeout_s = discovery_timeout_s
        self.refresh_s = refresh_s
        self.suspend_s = suspend_s
        self._blocklist = {b.strip().lower().removeprefix("0x") for b in blocklist if b.strip()}
        self._lock = threading.Lock()
        self._refresh_locks: dict[tuple[Pipeline, str], threading.Lock] = {}
        self._found: dict[tuple[Pipeline, str], tuple[float, list[AIOrchestrator]]] = {}  # (pipeline, model) asked
        self._missing: dict[tuple[Pipeline, str], int] = {}  # candidates that gave no usable answer, per key
        self._unreachable: dict[str, str] = {}
        self._seen: dict[str, tuple[float, AIOrchestrator | None, str]] = {}  # uri -> its latest answer, or why none
        self._suspended: dict[str, tuple[float, str]] = {}  # uri -> (until monotonic, why)
        self._executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="lpc-gw-ai-discovery")
        self._closed = False

    @staticmethod
    def _offchain_request(caps: net.Capabilities) -> net.OrchestratorRequest:
        req = net.OrchestratorRequest(address=ZERO_ADDRESS, ignoreCapacityCheck=True)
        req.capabilities.CopyFrom(caps)
        return req

    def close(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)

    # ---------------------------------------------------------------- discovery
    def candidate_uris(self) -> list[str]:
        out = list(dict.fromkeys(self._addrs))
        if self._more is not None:
            try:
                for uri in self._more():
                    if uri not in out:
                        out.append(uri)
            except Exception as exc:  # noqa: BLE001 - a webhook/chain failure: the -orchAddr list still serves
                log.warning("AI discovery: more candidates failed: %s", exc)
        return out

    def refresh(self, pipeline: Pipeline, model_id: str = "") -> list[AIOrchestrator]:
        """GetOrchestrator to every candidate now, asking for (pipeline, model_id) ("": the pipeline); one
        refresh per (pipeline, model) at a time."""
        key = (pipeline, model_id)
        with self._lock:
            lock = self._refresh_locks.setdefault(key, threading.Lock())
        if not lock.acquire(blocking=False):
            with lock:  # someone else was refreshing this: use theirs
                return self._found.get(key, (0.0, []))[1]
        try:
            found, unreachable = self._discover(pipeline, model_id)
            with self._lock:
                now = time.monotonic()
                self._found[key] = (now, found)
                self._missing[key] = len(unreachable)
                self._seen.update({o.uri: (now, o, "") for o in found})
                self._seen.update({u: (now, None, why) for u, why in unreachable.items()})
                for uri in [u for u in self._unreachable if u not in unreachable]:
                    del self._unreachable[uri]
                self._unreachable.update(unreachable)
            return found
        finally:
            lock.release()

    def _discover(self, pipeline: Pipeline, model_id: str) -> tuple[list[AIOrchestrator], dict[str, str]]:
        uris = self.candidate_uris()
        if not uris or self._closed:
            return [], {}
        caps = ai_request_capabilities(pipeline, model_id)
        asked = (pipeline, model_id) if model_id else None
        started = time.monotonic()

        def ask(uri: str):
            t0 = time.monotonic()
            info = get_orchestrator(uri, self._request(caps), timeout=DISCOVERY_CUTOFF_S)
            return info, time.monotonic() - t0

        futures: dict[Future, str] = {self._executor.submit(ask, u): u for u in uris}
        pending = set(futures)
        timeout = max(0.05, self.discovery_timeout_s)
        answered: list[AIOrchestrator] = []
        unreachable: dict[str, str] = {}
        while pending:
            deadline = min(started + timeout, started + DISCOVERY_CUTOFF_S)
            done, pending = wait(pending, timeout=max(0.0, deadline - time.monotonic()), return_when=FIRST_COMPLETED)
            for f in done:
                uri = futures[f]
                try:
                    info, rtt = f.result()
                except Unreachable as exc:
                    unreachable[uri] = str(exc)
                    continue
                except Exception as exc:  # noqa: BLE001 - one bad answer must not end discovery
                    unreachable[uri] = f"{type(exc).__name__}: {exc}"
                    continue
                why = self._refusal(info)
                if why:
                    unreachable[uri] = why
                    continue
                answered.append(AIOrchestrator(uri, info, rtt, offers_of(info, asked)))
            if pending and time.monotonic() >= deadline:
                if answered or deadline >= started + DISCOVERY_CUTOFF_S:
                    break
                timeout *= 2  # nobody answered yet: wait longer (as the video discovery does)
        for f in pending:
            unreachable[futures[f]] = f"no answer within {time.monotonic() - started:.1f} s"
        answered.sort(key=lambda o: o.latency_s)
        return answered, unreachable

    def _refusal(self, info: net.OrchestratorInfo) -> str:
        address = bytes(info.address).hex()
        if self._blocklist and address in self._blocklist:
            return f"on -orchBlocklist (0x{address})"
        if not info.transcoder:
            return "answered without a service URI"
        return ""

    def known(self, pipeline: Pipeline, model_id: str = "") -> list[AIOrchestrator]:
        """The answers to GetOrchestrator for (pipeline, model_id), refreshed when older than refresh_s (or
        never asked). Kept per model as go-livepeer keeps a selector per `<capability>_<model>`: the
        auth token, ticket parameters and price_info of an answer are those of that request."""
        with self._lock:
            at, found = self._found.get((pipeline, model_id), (0.0, []))
            missing = self._missing.get((pipeline, model_id), 0)
        ttl = self.refresh_s if not missing else min(self.refresh_s, REFRESH_PARTIAL_S if found else REFRESH_EMPTY_S)
        if not at or time.monotonic() - at > ttl:
            found = self.refresh(pipeline, model_id)
        return found

    def update(self, orch: AIOrchestrator, info: net.OrchestratorInfo, asked: tuple[Pipeline, str] | None = None) -> None:
        """An orchestrator's newer OrchestratorInfo (a GetOrchestrator for `asked`, for a fresh auth token)."""
        orch.info = info
        orch.offers = offers_of(info, asked)
        orch.at = time.monotonic()

    # ---------------------------------------------------------------- choosing
    def max_price(self, pipeline: Pipeline, model_id: str) -> Fraction | None:
        """The most this gateway pays per unit for the model now, in wei (a USD limit follows the feed);
        ModelUnavailable (503) when a currency limit cannot be converted now."""
        amount = self._max_prices.get((pipeline, model_id), self._max_prices.get((pipeline, "default")))
        if amount is None:
            return self._max_price_per_unit()
        if amount.currency == WEI:
            return amount.value
        try:
            return amount.value * 10**18 / self._rates.rate(amount.currency)
        except PriceError as exc:
            raise ModelUnavailable(f"{pipeline.value}: the max price for {model_id} is in {amount.currency} and "
                                   f"cannot be converted to wei now: {exc}", pipeline=pipeline.value,
                                   model_id=model_id) from None

    def resolve_model(self, pipeline: Pipeline, model_id: str) -> str:
        """The concrete model for a request: `model_id` itself when given, else the model most of the
        pool serves warm (see the module docstring). ModelUnavailable when nobody serves the pipeline."""
        if model_id:
            return model_id
        model = most_served(self.known(pipeline), pipeline)
        if model is None:
            raise ModelUnavailable(f"{pipeline.value}: no orchestrator serves this pipeline; "
                                   f"{self._why_none(pipeline)}", pipeline=pipeline.value)
        return model

    def served_models(self, pipeline: Pipeline) -> list[str]:
        with self._lock:
            found = [o for (p, _), (_, orchs) in self._found.items() if p is pipeline for o in orchs]
        return sorted({m for o in found for (p, m) in o.offers if p is pipeline})

    def candidates(self, pipeline: Pipeline, model_id: str) -> list[Candidate]:
        """Orchestrators offering (pipeline, model_id) in the order to try them. ModelUnavailable naming
        the model (and what is served instead) when nobody offers it within the price limit."""
        orchs = self.known(pipeline, model_id)
        limit = self.max_price(pipeline, model_id)
        now = time.monotonic()
        with self._lock:
            for uri in [u for u, (until, _) in self._suspended.items() if until <= now]:
                del self._suspended[uri]
            suspended = {u: why for u, (_, why) in self._suspended.items()}
        out, too_dear = rank(orchs, pipeline, model_id, limit, suspended)
        if not out:
            served = self.served_models(pipeline)
            if too_dear:
                raise ModelUnavailable(
                    f"{pipeline.value}: no orchestrator serves model {model_id} within the max price "
                    f"({_wei(limit)} per unit): {'; '.join(too_dear)}", pipeline=pipeline.value, model_id=model_id)
            what = f"served: {', '.join(served)}" if served else self._why_none(pipeline)
            raise ModelUnavailable(f"no orchestrator serves {pipeline.value} model {model_id}; {what}",
                                   pipeline=pipeline.value, model_id=model_id)
        return out

    def _why_none(self, pipeline: Pipeline) -> str:
        uris = self.candidate_uris()
        if not uris:
            return "no orchestrator is configured (give -orchAddr host:port,…, -orchWebhookUrl, or run on chain)"
        with self._lock:
            unreachable = dict(self._unreachable)
            found = list({o.uri: o for (p, _), (_, orchs) in self._found.items() if p is pipeline for o in orchs}.values())
        rows = [f"{u}: {unreachable[u]}" for u in uris if u in unreachable]
        rows += [f"{o.transcoder}: offers no {pipeline.value} model" for o in found]
        return "served: none (" + "; ".join(rows) + ")" if rows else "served: none"

    def suspend(self, orch: AIOrchestrator, why: str) -> None:
        with self._lock:
            self._suspended[orch.uri] = (time.monotonic() + self.suspend_s, why)
        log.info("AI: suspended %s for %.0f s: %s", orch.transcoder, self.suspend_s, why)

    def unsuspend(self, orch: AIOrchestrator) -> None:
        with self._lock:
            self._suspended.pop(orch.uri, None)

    def is_suspended(self, uri: str) -> bool:
        with self._lock:
            held = self._suspended.get(uri)
        return held is not None and held[0] > time.monotonic()

    # ---------------------------------------------------------------- watching
    def view(self) -> dict:
        """The pool for the management API's /status (`AIPool`): per orchestrator its models with warm /
        cold, capacity and price, suspended or unreachable with why."""
        now = time.monotonic()
        with self._lock:
            seen = dict(self._seen)
            suspended = {u: w for u, (until, w) in self._suspended.items() if until > now}
        rows = []
        for uri, (_, o, why) in seen.items():
            if o is None:
                rows.append({"Url": uri, "Address": "", "LatencyS": None, "State": "unreachable", "Note": why,
                             "Models": []})
                continue
            rows.append({
                "Url": o.transcoder, "Address": o.address, "LatencyS": round(o.latency_s, 4),
                "State": "suspended" if uri in suspended else "ready", "Note": suspended.get(uri, ""),
                "Models": [{"Pipeline": f.pipeline.value, "ModelID": f.model_id, "Warm": f.warm,
                            "Capacity": f.capacity, "InUse": f.in_use, "Price": f.price_text()}
                           for f in sorted(o.offers.values(), key=lambda f: (f.pipeline.value, f.model_id))],
            })
        return {"Orchestrators": rows,
                "MaxPricePerCapability": {f"{p.value}/{m}": _wei(a.value) if a.currency == WEI else f"{a}"
                                          for (p, m), a in self._max_prices.items()}}


def most_served(orchs: list[AIOrchestrator], pipeline: Pipeline) -> str | None:
    """The model for model_id "": the one most orchestrators serve warm for `pipeline`, then the one most
    serve at all, then the first by name; None when nobody serves the pipeline."""
    warm: dict[str, int] = {}
    served: dict[str, int] = {}
    for o in orchs:
        for (p, m), offer in o.offers.items():
            if p is pipeline:
                served[m] = served.get(m, 0) + 1
                warm[m] = warm.get(m, 0) + (1 if offer.warm else 0)
    if not served:
        return None
    return sorted(served, key=lambda m: (-warm[m], -served[m], m))[0]


def rank(orchs: list[AIOrchestrator], pipeline: Pipeline, model_id: str, limit: Fraction | None,
         suspended: dict[str, str]) -> tuple[list[Candidate], list[str]]:
    """(the orchestrators offering the model in the order to try them, "<O> asks <price>" for those
    over `limit`): warm before cold, then cheaper, then faster to answer GetOrchestrator; the
    `suspended` (uri -> why) after all the others."""
    fine: list[Candidate] = []
    held: list[Candidate] = []
    too_dear: list[str] = []
    for o in orchs:
        offer = o.offers.get((pipeline, model_id))
        if offer is None:
            continue
        if limit is not None and offer.price is not None and offer.price > limit:
            too_dear.append(f"{o.transcoder} asks {offer.price_text()}")
            continue
        if o.uri in suspended:
            held.append(Candidate(o, offer, suspended[o.uri]))
        else:
            fine.append(Candidate(o, offer))

    def key(c: Candidate):
        return (not c.offer.warm, c.offer.price or 0, c.orch.latency_s)

    return sorted(fine, key=key) + sorted(held, key=key), too_dear


def _wei(price: Fraction | None) -> str:
    if price is None:
        return "any"
    return f"{price.numerator} wei" if price.denominator == 1 else f"{price.numerator}/{price.denominator} wei"
