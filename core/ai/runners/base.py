"""What every runner shares: its identity, the model-id check of each request, and the refusal of
streaming by pipelines that do not stream. Engines stay out of here."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import time
from pathlib import Path

from core.ai.ports import BadRequest, ModelUnavailable, Pipeline, model_of


class RunnerBase:
    """pipeline, model_id, bundled, description as the port names them; `device` is where load() put the
    model ("" when not loaded)."""

    pipeline: Pipeline
    model_id: str
    bundled: bool
    description: str

    def __init__(self, pipeline: Pipeline, model_id: str, description: str, *, bundled: bool) -> None:
        self.pipeline = pipeline
        self.model_id = model_id
        self.description = description
        self.bundled = bundled
        self.device = ""

    def check_model(self, request) -> None:
        """ai-runner's rule: a non-empty model id that is not this runner's model is the client's mistake."""
        asked = model_of(request)
        if asked and asked != self.model_id:
            raise self.bad_request(f"pipeline configured with {self.model_id} but called with {asked}.")

    def bad_request(self, message: str) -> BadRequest:
        return BadRequest(f"{self.pipeline.value} ({self.model_id}): {message}", pipeline=self.pipeline.value,
                          model_id=self.model_id)

    def unavailable(self, message: str) -> ModelUnavailable:
        return ModelUnavailable(f"{self.pipeline.value} ({self.model_id}): {message}",
                                pipeline=self.pipeline.value, model_id=self.model_id)

    def require_available(self) -> None:
        problem = self.available()
        if problem:
            raise self.unavailable(problem)

    def available(self) -> str | None:  # pragma: no cover - every runner overrides it
        raise NotImplementedError

    def stream(self, request):
        raise self.bad_request("streaming is offered by the llm pipeline only")


def package_dir(module: str) -> Path | None:
    """Where an installed package lives, found without importing it (some weight packages' __init__
    imports things lpc does not install)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def module_missing(module: str) -> bool:
    return importlib.util.find_spec(module) is None


def missing_files(directory: Path, names) -> list[str]:
    """The names in `names` that are not files in `directory`."""
    return [n for n in names if not (directory / n).is_file()]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_bytes(paths) -> int | None:
    """Total size of the files that exist; None when none does."""
    sizes = [p.stat().st_size for p in paths if p.is_file()]
    return sum(sizes) if sizes else None


def remove_stale_work_dirs(parent: Path, prefix: str, *, older_than_s: float = 3600.0) -> None:
    """Delete `prefix`* directories in `parent` left by a process killed while building a derived model
    (they are written under a temporary name and renamed when complete; an hour is far longer than any
    build, so a live build in another process is never touched)."""
    cutoff = time.time() - older_than_s
    for leftover in parent.glob(f"{prefix}*"):
        try:
            if leftover.is_dir() and leftover.stat().st_mtime < cutoff:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            pass
