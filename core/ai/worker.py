"""The AI worker: the configured models, their slots, loading, and what each has done.

    worker = AIWorker(load_ai_models(None, ...), models_dir=Path("~/models"))
    worker.start()                                   # warm models load on a background thread
    model = worker.resolve(Pipeline.LLM, "")         # "" -> the configured model (ModelUnavailable otherwise)
    result = worker.run(Pipeline.UPSCALE, request)   # blocking; call it with asyncio.to_thread
    for chunk in worker.stream(llm_request): ...     # the slot is held until exhausted or closed
    worker.models(); worker.advertised(); worker.stop()

Each model (pipeline, model_id) has `capacity` slots. A request takes a slot without waiting or is refused
at once with InsufficientCapacity ("insufficient capacity", go-livepeer's words, which go gateways read
as "try the next orchestrator"): nothing queues forever. A cold model loads on its first request; other
requests for it wait for that one load while holding their slots, so concurrent first requests load it
once. The same model listed for several gateways (per-gateway prices) is one model with one set of slots.

Model state, as the console shows it:

    configured ──available()──► unavailable (no weights / external runner: the reason, never served)
        │ warm                      ▲ load failed (the error; the next request tries again)
        ▼                           │
      loading ──────────────────────┴──► warm (loaded) ◄── cold (loads on first request)

Counters: `requests` (every request that got a slot), `errors` (the model's faults: RunnerFailed, a load
failure, anything unexpected), `client_errors` (BadRequest / TooLarge / UnsupportedMedia: the client's
input, not the model's fault), `refused` (no free slot). Latency is inference time (not loading) over the
last 200 successful requests. Thread-safe; no asyncio inside.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

from core.ai import catalog
from core.ai.ports import (
    REQUEST_TYPE,
    AIError,
    AIRequest,
    AIResult,
    BadRequest,
    InsufficientCapacity,
    LLMChunk,
    LLMRequest,
    ModelSpec,
    ModelUnavailable,
    ModelView,
    Pipeline,
    RunnerFailed,
    TooLarge,
    UnsupportedMedia,
    model_of,
)

log = logging.getLogger(__name__)

LATENCY_WINDOW = 200
AVAILABILITY_TTL_S = 5.0  # how long an available() answer is trusted (user weights may be copied in later)
CLIENT_ERRORS = (BadRequest, TooLarge, UnsupportedMedia)


def default_price_text(spec: ModelSpec) -> str:
    """"0" offchain (no price); "4768371 wei / 1 unit"; "0.0005 USD / 1000000 units"."""
    if spec.price_per_unit is None:
        return "0"
    price = spec.price_per_unit
    if price.denominator == 1:
        amount = str(price.numerator)
    else:
        d = Decimal(price.numerator) / Decimal(price.denominator)
        amount = format(d.normalize(), "f") if d * price.denominator == price.numerator else str(price)
    pixels = spec.pixels_per_unit or 1
    return f"{amount} {spec.currency or 'wei'} / {pixels} unit{'s' if pixels != 1 else ''}"


class _Model:
    """One served model: its runner, slots and counters. Fields are guarded by AIWorker._lock, except that
    loading is serialised by `load_lock`."""

    def __init__(self, spec: ModelSpec, runner) -> None:
        self.spec = spec  # the "default"-gateway entry when the model is listed for several gateways
        self.specs = [spec]
        self.runner = runner
        self.load_lock = threading.Lock()
        self.loading = False
        self.load_error = ""
        self.in_use = 0
        self.requests = self.errors = self.client_errors = self.refused = 0
        self.latencies: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.last: float | None = None
        self.checked_at = float("-inf")
        self.problem: str | None = None

    @property
    def key(self) -> tuple[Pipeline, str]:
        return self.spec.pipeline, self.spec.model_id


class AIWorker:
    """AIWorkerPort over real ModelRunners (core.ai.catalog.runner_for by default)."""

    def __init__(self, specs, *, models_dir: Path | None = None, device: str | None = None,
                 runner_for: Callable = catalog.runner_for,
                 price_text: Callable[[ModelSpec], str] | None = None) -> None:
        self.models_dir = Path(models_dir).expanduser() if models_dir is not None else None
        self._device = device
        self._price_text = price_text or default_price_text
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # notified when a slot is released
        self._models: dict[tuple[Pipeline, str], _Model] = {}
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        for spec in specs:
            key = (spec.pipeline, spec.model_id)
            if key in self._models:
                m = self._models[key]
                m.specs.append(spec)
                if spec.gateway == "default" and m.spec.gateway != "default":
                    m.spec = spec
                continue
            try:
                runner = runner_for(spec, self.models_dir)
            except Exception as exc:  # a runner factory must not take the node down: the model is unavailable
                runner = catalog.UnavailableRunner(spec, f"cannot set up a runner: {exc}")
            self._models[key] = _Model(spec, runner)

    # ------------------------------------------------------------------------------ lifecycle
    @property
    def device(self) -> str:
        if self._device is None:
            from core.ai.device import probe_device

            self._device = probe_device()[0]
        return self._device

    @property
    def specs(self) -> tuple[ModelSpec, ...]:
        """Every configured entry, including the per-gateway duplicates (for prices)."""
        return tuple(s for m in self._models.values() for s in m.specs)

    def start(self) -> None:
        """Load the warm models on a background thread, one at a time (they share the CPU). Their weights
        are checked there too: verifying a user's manifest may hash gigabytes the first time."""
        warm = [m for m in self._models.values() if m.spec.warm]
        with self._lock:
            for m in warm:
                m.loading = not m.runner.loaded
        if self._thread is None and warm:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._load_warm, args=(warm,), name="ai-warm-load", daemon=True)
            self._thread.start()

    def _load_warm(self, warm: list[_Model]) -> None:
        for m in warm:
            if self._stopping.is_set() or self._problem(m) is not None:
                with self._lock:
                    m.loading = False
                continue
            try:
                self._ensure_loaded(m)
            except AIError as exc:
                log.warning("warm model %s %s did not load: %s", m.spec.pipeline.value, m.spec.model_id, exc)

    def stop(self, *, drain_s: float = 10.0) -> None:
        """Stop loading (a load in progress finishes), give running requests up to `drain_s` seconds to
        finish (a model unloaded under a running request would fail it), then unload every model."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        deadline = time.monotonic() + drain_s
        with self._idle:
            while any(m.in_use for m in self._models.values()):
                left = deadline - time.monotonic()
                if left <= 0:
                    log.warning("stopping the AI worker with requests still running")
                    break
                self._idle.wait(left)
        for m in self._models.values():
            with m.load_lock:
                try:
                    if m.runner.loaded:
                        m.runner.unload()
                except Exception as exc:
                    log.warning("unloading %s failed: %s", m.spec.model_id, exc)

    # ------------------------------------------------------------------------------ availability
    def _problem(self, m: _Model) -> str | None:
        """The runner's available() answer, re-asked at most every AVAILABILITY_TTL_S (a loaded model is
        available by definition)."""
        if m.runner.loaded:
            m.checked_at = float("-inf")  # once it is not loaded any more (unloaded, runner gone), ask again
            return None
        now = time.monotonic()
        if now - m.checked_at < AVAILABILITY_TTL_S:
            return m.problem
        try:
            problem = m.runner.available()
        except Exception as exc:
            problem = f"checking the weights failed: {exc}"
        with self._lock:
            m.problem, m.checked_at = problem, now
        return problem

    def _of_pipeline(self, pipeline: Pipeline) -> list[_Model]:
        return [m for m in self._models.values() if m.spec.pipeline is pipeline]

    def resolve(self, pipeline: Pipeline, model_id: str) -> str:
        """The model serving (pipeline, model_id). "" -> the configured one: the first warm model with
        weights, else the first with weights. ModelUnavailable when the model is not configured here or has
        no weights; never another model in its place."""
        return self._resolve(Pipeline(pipeline), model_id).spec.model_id

    def _resolve(self, pipeline: Pipeline, model_id: str) -> _Model:
        p = pipeline.value
        candidates = self._of_pipeline(pipeline)
        if not candidates:
            raise ModelUnavailable(f"{p}: {self._unconfigured_reason(pipeline)}", pipeline=p, model_id=model_id)
        if model_id:
            m = self._models.get((pipeline, model_id))
            if m is None:
                served = ", ".join(c.spec.model_id for c in candidates)
                raise ModelUnavailable(f"{p}: model {model_id} is not served here; served: {served}", pipeline=p,
                                       model_id=model_id)
        else:
            ready = [c for c in candidates if self._problem(c) is None]
            m = next((c for c in ready if c.spec.warm), ready[0] if ready else candidates[0])
        problem = self._problem(m)
        if problem is not None:
            raise ModelUnavailable(f"{p} ({m.spec.model_id}): {problem}", pipeline=p, model_id=m.spec.model_id)
        return m

    def _unconfigured_reason(self, pipeline: Pipeline) -> str:
        bundled = _bundled_default(pipeline)
        if bundled:
            return f"no model configured; add {pipeline.value}:{bundled}:true to -aiModels to serve the bundled one"
        kind = "diffusers" if pipeline in (Pipeline.TEXT_TO_IMAGE, Pipeline.IMAGE_TO_IMAGE,
                                           Pipeline.IMAGE_TO_VIDEO) else "transformers"
        if self.models_dir is None:
            return (f"no model configured; {pipeline.value} has no bundled model: put {kind} weights with a SHA256SUMS "
                    "manifest in -aiModelsDir and list the model in -aiModels")
        return (f"no weights in {self.models_dir}: {pipeline.value} has no bundled model; put {kind} weights with a "
                "SHA256SUMS manifest there and list the model in -aiModels")

    # ------------------------------------------------------------------------------ running
    def _reserve(self, m: _Model) -> None:
        with self._lock:
            if m.in_use >= m.spec.capacity:
                m.refused += 1
                raise InsufficientCapacity(
                    f"insufficient capacity: {m.spec.pipeline.value} {m.spec.model_id} is running {m.in_use} of "
                    f"{m.spec.capacity} request{'s' if m.spec.capacity != 1 else ''}; try again or another "
                    "orchestrator", pipeline=m.spec.pipeline.value, model_id=m.spec.model_id)
            m.in_use += 1
            m.requests += 1

    def _release(self, m: _Model) -> None:
        with self._idle:
            m.in_use -= 1
            self._idle.notify_all()

    def _ensure_loaded(self, m: _Model) -> None:
        # `loading` is raised before runner.load() starts and lowered after it returns: a runner may say
        # loaded before its load() has finished setting up, so only a finished load counts.
        if m.runner.loaded and not m.loading:
            return
        with m.load_lock:  # one load per model; the others wait here, holding their slots
            if m.runner.loaded and not m.loading:
                return
            with self._lock:
                m.loading = True
            try:
                m.runner.load(self.device)
            except AIError as exc:
                self._load_failed(m, str(exc))
                raise
            except Exception as exc:
                self._load_failed(m, f"loading failed: {exc}")
                raise ModelUnavailable(f"{m.spec.pipeline.value} ({m.spec.model_id}): loading failed: {exc}",
                                       pipeline=m.spec.pipeline.value, model_id=m.spec.model_id) from exc
            with self._lock:
                m.loading, m.load_error = False, ""

    def _load_failed(self, m: _Model, reason: str) -> None:
        with self._lock:
            m.loading, m.load_error = False, reason

    def _count_failure(self, m: _Model, exc: BaseException) -> AIError:
        """Count the failure against the client or the model; the error to raise."""
        with self._lock:
            if isinstance(exc, CLIENT_ERRORS):
                m.client_errors += 1
            else:
                m.errors += 1
        if isinstance(exc, AIError):
            return exc
        return RunnerFailed(f"{m.spec.pipeline.value} ({m.spec.model_id}): {type(exc).__name__}: {exc}",
                            pipeline=m.spec.pipeline.value, model_id=m.spec.model_id)

    def _record(self, m: _Model, seconds: float) -> None:
        with self._lock:
            m.latencies.append(seconds)
            m.last = seconds

    def _begin(self, pipeline: Pipeline, request: AIRequest) -> _Model:
        pipeline = Pipeline(pipeline)
        if not isinstance(request, REQUEST_TYPE[pipeline]):
            raise BadRequest(f"{pipeline.value}: a {type(request).__name__} is not a {pipeline.value} request",
                             pipeline=pipeline.value)
        m = self._resolve(pipeline, model_of(request))
        self._reserve(m)
        try:
            self._ensure_loaded(m)
        except BaseException as exc:
            self._release(m)
            raise self._count_failure(m, exc) from (None if isinstance(exc, AIError) else exc)
        return m

    def run(self, pipeline: Pipeline, request: AIRequest) -> AIResult:
        m = self._begin(pipeline, request)
        try:
            t0 = time.perf_counter()
            result = m.runner.run(request)
            self._record(m, time.perf_counter() - t0)
            return result
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise self._count_failure(m, exc) from (None if isinstance(exc, AIError) else exc)
        finally:
            self._release(m)

    def stream(self, request: LLMRequest) -> Iterator[LLMChunk]:
        """A slot is taken now (InsufficientCapacity at once if none is free) and held by the returned
        iterator until it is exhausted, fails or is closed."""
        m = self._begin(Pipeline.LLM, request)
        try:
            inner = iter(m.runner.stream(request))
        except BaseException as exc:
            self._release(m)
            raise self._count_failure(m, exc) from (None if isinstance(exc, AIError) else exc)
        return _SlotStream(self, m, inner)

    # ------------------------------------------------------------------------------ views
    def _state(self, m: _Model) -> tuple[str, str]:
        if m.loading:
            return "loading", m.runner.description
        if m.runner.loaded:
            return "warm", m.runner.description
        problem = self._problem(m)
        if problem is not None:
            return "unavailable", problem
        if m.load_error:
            return "unavailable", m.load_error
        return "cold", m.runner.description

    def models(self) -> tuple[ModelView, ...]:
        views = []
        for m in self._models.values():
            state, reason = self._state(m)
            with self._lock:
                lat = list(m.latencies)
                counters = (m.in_use, m.requests, m.errors, m.client_errors, m.refused, m.last)
            in_use, requests, errors, client_errors, refused, last = counters
            try:
                memory = m.runner.memory_bytes()
            except Exception:
                memory = None
            device = "" if state == "unavailable" else (getattr(m.runner, "device", "") or
                                                         (self.device if m.runner.loaded else ""))
            views.append(ModelView(
                pipeline=m.spec.pipeline.value, model_id=m.spec.model_id, state=state, reason=reason, device=device,
                memory_bytes=memory, capacity=m.spec.capacity, in_use=in_use, requests=requests, errors=errors,
                latency_p50_s=statistics.median(lat) if lat else None, latency_last_s=last,
                price=self._price_text(m.spec), bundled=bool(getattr(m.runner, "bundled", False)),
                client_errors=client_errors, refused=refused))
        configured = {m.spec.pipeline for m in self._models.values()}
        for p in Pipeline:
            if p not in configured:
                views.append(ModelView(pipeline=p.value, model_id="", state="unavailable",
                                       reason=self._unconfigured_reason(p), device="", memory_bytes=None, capacity=0,
                                       in_use=0, requests=0, errors=0, latency_p50_s=None, latency_last_s=None,
                                       price="", bundled=False))
        return tuple(views)

    def advertised(self) -> tuple[tuple[ModelSpec, bool, int, int], ...]:
        """(spec, warm, capacity, in_use) per model with weights: warm = configured warm or loaded. One row
        per model (its "default"-gateway entry); `specs` has every per-gateway entry for prices."""
        rows = []
        for m in self._models.values():
            if self._problem(m) is not None:
                continue
            with self._lock:
                in_use = m.in_use
            rows.append((m.spec, bool(m.spec.warm or m.runner.loaded), m.spec.capacity, in_use))
        return tuple(rows)


class _SlotStream:
    """The runner's chunk iterator, holding the model's slot until exhausted, failed or closed (also when
    garbage-collected unclosed, as a last resort)."""

    def __init__(self, worker: AIWorker, model: _Model, inner: Iterator[LLMChunk]) -> None:
        self._worker, self._model, self._inner = worker, model, inner
        self._t0 = time.perf_counter()
        self._done = False

    def __iter__(self) -> _SlotStream:
        return self

    def __next__(self) -> LLMChunk:
        if self._done:
            raise StopIteration
        try:
            return next(self._inner)
        except StopIteration:
            self._worker._record(self._model, time.perf_counter() - self._t0)
            self._finish()
            raise
        except BaseException as exc:
            self._finish()
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise self._worker._count_failure(self._model, exc) from (None if isinstance(exc, AIError) else exc)

    def close(self) -> None:
        if self._done:
            return
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        finally:
            self._finish()

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            self._worker._release(self._model)

    def __enter__(self) -> _SlotStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def _bundled_default(pipeline: Pipeline) -> str:
    """The bundled default model id of `pipeline`, or "" (none, or the registry has not loaded)."""
    try:
        from core.ai.bundled import default_specs
    except ImportError:
        return ""
    try:
        return next((s.model_id for s in default_specs() if s.pipeline is pipeline), "")
    except Exception:
        return ""
