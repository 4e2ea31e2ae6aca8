"""Which runner serves a configured model: a bundled one, the user's weights, or an honest refusal.

    runner = runner_for(spec, models_dir)    # never raises; a runner that cannot serve says why in available()

Order: a model id lpc ships (core.ai.bundled) -> its bundled runner; anything else -> the user's weights in
-aiModelsDir (core.ai.user_weights: a save_pretrained directory with a SHA256SUMS manifest). A spec with
a `url` is go-livepeer's external ai-runner container: core.ai.external_runner talks to it over HTTP and it
is available only while its /health answers. The engines are imported only when a runner loads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from core.ai.ports import AIRequest, AIResult, LLMChunk, LLMRequest, ModelSpec, ModelUnavailable

log = logging.getLogger(__name__)


class UnavailableRunner:
    """A configured model nobody here can run, with the reason in words. It loads and runs nothing."""

    def __init__(self, spec: ModelSpec, reason: str, *, bundled: bool = False) -> None:
        self.pipeline = spec.pipeline
        self.model_id = spec.model_id
        self.bundled = bundled
        self.description = reason
        self.reason = reason

    def available(self) -> str | None:
        return self.reason

    def _refuse(self) -> ModelUnavailable:
        return ModelUnavailable(f"{self.pipeline.value} ({self.model_id}): {self.reason}",
                                pipeline=self.pipeline.value, model_id=self.model_id)

    def load(self, device: str) -> None:
        raise self._refuse()

    def unload(self) -> None:
        pass

    @property
    def loaded(self) -> bool:
        return False

    def memory_bytes(self) -> int | None:
        return None

    def run(self, request: AIRequest) -> AIResult:
        raise self._refuse()

    def stream(self, request: LLMRequest) -> Iterator[LLMChunk]:
        raise self._refuse()


def runner_for(spec: ModelSpec, models_dir: Path | None):
    """The ModelRunner for `spec`. Never raises: a runner that cannot serve explains itself in available()."""
    if spec.url:
        from core.ai.external_runner import ExternalRunner

        return ExternalRunner(spec)
    try:
        from core.ai.bundled import bundled_runner
    except ImportError as exc:  # a broken install: no bundled model, but the user's weights still serve
        log.warning("the bundled model registry cannot be imported: %s", exc)
    else:
        runner = bundled_runner(spec.pipeline, spec.model_id)
        if runner is not None:
            return runner
    try:
        from core.ai.user_weights import user_runner
    except ImportError as exc:
        return UnavailableRunner(spec, f"{spec.model_id} is not bundled with lpc and user-supplied weights cannot be "
                                       f"loaded: {exc}")
    return user_runner(spec, models_dir)
