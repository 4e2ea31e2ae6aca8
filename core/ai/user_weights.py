"""Model weights the operator brings: where they live in -aiModelsDir, the SHA256SUMS manifest that must
vouch for them, and the runner that serves them (issue #12).

    <aiModelsDir>/<org>/<name>/                       a save_pretrained directory + SHA256SUMS
    <aiModelsDir>/models--<org>--<name>/snapshots/<rev>/   the Hugging Face cache layout (refs/main's
                                                       revision, else the newest snapshot) + SHA256SUMS

    runner = user_runner(spec, models_dir)   # ModelRunner; available() is None only when the files verify
    problems = verify(directory)             # [] when every listed file matches and no weight is unlisted

Why a manifest: lpc never downloads weights, so what it runs is whatever sits in the directory. The
manifest (`sha256sum` format, made once by the operator) is what lets lpc say "these are the files you
meant" and refuse a truncated copy or a swapped file with the name and both digests, instead of loading
garbage or failing deep inside torch. Digests are cached on disk keyed by (path, size, mtime_ns), so a
restart stats the files instead of re-hashing gigabytes; a file rewritten in place changes its mtime and
is hashed again.

The runners themselves: core/ai/runners/diffusion.py (text-to-image, image-to-image, image-to-video, and
upscale with a diffusers upscaler such as the reference stabilityai/stable-diffusion-x4-upscaler) and
core/ai/runners/vision.py (image-to-text, segment-anything-2), both built on DirectoryRunner below;
llm and audio-to-text reuse the bundled runners' classes (core/ai/runners/causal_lm.py, whisper.py)
pointed at the user's directory. Everything heavy is imported inside load().
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shlex
import threading
from collections.abc import Callable
from pathlib import Path

from core.ai.ports import AIRequest, ModelSpec, ModelUnavailable, Pipeline, RunnerFailed
from core.ai.runners.base import RunnerBase

log = logging.getLogger(__name__)

MANIFEST = "SHA256SUMS"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".onnx", ".pt", ".pth")
_CHUNK = 4 << 20
_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")

# What each pipeline's loader wants in the directory, in the words of the unavailable message.
NEEDS: dict[Pipeline, str] = {
    Pipeline.TEXT_TO_IMAGE: "text-to-image needs a diffusers save_pretrained directory with a SHA256SUMS manifest",
    Pipeline.IMAGE_TO_IMAGE: "image-to-image needs a diffusers save_pretrained directory with a SHA256SUMS manifest",
    Pipeline.IMAGE_TO_VIDEO: "image-to-video needs a diffusers save_pretrained directory (e.g. Stable Video "
                             "Diffusion) with a SHA256SUMS manifest",
    Pipeline.UPSCALE: "upscale needs a diffusers save_pretrained directory (e.g. stabilityai/stable-diffusion-x4-"
                      "upscaler) with a SHA256SUMS manifest",
    Pipeline.IMAGE_TO_TEXT: "image-to-text needs a transformers save_pretrained directory (model and processor, "
                            "e.g. BLIP) with a SHA256SUMS manifest",
    Pipeline.SEGMENT_ANYTHING_2: "segment-anything-2 needs a transformers Sam2Model save_pretrained directory with "
                                 "a SHA256SUMS manifest",
    Pipeline.LLM: "llm needs a transformers save_pretrained directory (model and tokenizer) with a SHA256SUMS "
                  "manifest",
    Pipeline.AUDIO_TO_TEXT: "audio-to-text needs a CTranslate2 Whisper directory (model.bin, config.json, "
                            "tokenizer.json) with a SHA256SUMS manifest",
}


# ------------------------------------------------------------------------------------------ where
def model_id_problem(model_id: str) -> str | None:
    """Why `model_id` cannot name a directory under -aiModelsDir (None when it can): empty, absolute, or
    with '.', '..' or empty components, any of which would let a model id point outside the directory."""
    if not model_id or not model_id.strip():
        return "the model id is empty"
    if "\\" in model_id or "\0" in model_id:
        return f"model id {model_id!r} holds a backslash or NUL; use 'org/name'"
    if model_id.startswith("/") or Path(model_id).is_absolute() or re.match(r"^[A-Za-z]:", model_id):
        return f"model id {model_id!r} is an absolute path; use 'org/name' relative to -aiModelsDir"
    parts = model_id.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return f"model id {model_id!r} has an empty, '.' or '..' component; use 'org/name'"
    return None


def model_dir(models_dir: Path, model_id: str) -> Path | None:
    """The directory holding `model_id`'s weights: <models_dir>/<model_id>/ (an 'org/name' id is a
    subdirectory), else the Hugging Face cache snapshot <models_dir>/models--org--name/snapshots/<rev>/
    that refs/main names (the newest snapshot when refs/main is absent or stale). None when neither
    exists. ValueError for a model id that would leave models_dir ('..', absolute)."""
    problem = model_id_problem(model_id)
    if problem:
        raise ValueError(problem)
    models_dir = Path(models_dir)
    direct = models_dir / model_id
    if direct.is_dir():
        return direct
    cache = models_dir / ("models--" + model_id.replace("/", "--"))
    snapshots = cache / "snapshots"
    if not snapshots.is_dir():
        return None
    ref = cache / "refs" / "main"
    if ref.is_file():
        rev = ref.read_text(encoding="utf-8", errors="replace").strip()
        if rev and "/" not in rev and rev not in (".", "..") and (snapshots / rev).is_dir():
            return snapshots / rev
    candidates = [p for p in snapshots.iterdir() if p.is_dir()]
    if not candidates:
        return None
    return max(candidates, key=lambda p: p.stat().st_mtime_ns)


# ------------------------------------------------------------------------------------------ digests
class DigestCache:
    """sha256 of files, remembered on disk by (resolved path, size, mtime_ns) so a restart does not re-hash.
    `hashed` counts the files actually read since construction (what a restart saves). A cache that cannot
    be written (read-only disk) only costs time: digests are still computed."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._entries: dict[str, list] | None = None
        self._dirty = False
        self.hashed = 0

    def _file(self) -> Path:
        if self._path is None:
            from core.ai.cache import model_cache_dir

            return model_cache_dir() / "sha256-digests.json"
        return self._path

    def _load(self) -> dict[str, list]:
        if self._entries is None:
            try:
                data = json.loads(self._file().read_text(encoding="utf-8"))
                self._entries = data if isinstance(data, dict) else {}
            except (OSError, ValueError):
                self._entries = {}
        return self._entries

    def sha256(self, path: Path) -> str:
        st = path.stat()  # follows symlinks (the HF cache's snapshot files are links into blobs/)
        key = str(path.resolve())
        with self._lock:
            entry = self._load().get(key)
            if isinstance(entry, list) and len(entry) == 3 and entry[0] == st.st_size and entry[1] == st.st_mtime_ns:
                return str(entry[2])
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(_CHUNK), b""):
                h.update(block)
        digest = h.hexdigest()
        with self._lock:
            self.hashed += 1
            self._load()[key] = [st.st_size, st.st_mtime_ns, digest]
            self._dirty = True
        return digest

    def save(self) -> None:
        """Write the entries atomically (temp file + rename), so a killed process leaves the old cache."""
        with self._lock:
            if not self._dirty or self._entries is None:
                return
            target = self._file()
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps(self._entries), encoding="utf-8")
                os.replace(tmp, target)
                self._dirty = False
            except OSError as exc:
                log.warning("could not save the weight digest cache at %s: %s", target, exc)


_DEFAULT_CACHE: DigestCache | None = None


def default_digest_cache() -> DigestCache:
    global _DEFAULT_CACHE
    if _DEFAULT_CACHE is None:
        _DEFAULT_CACHE = DigestCache()
    return _DEFAULT_CACHE


# ------------------------------------------------------------------------------------------ manifest
def manifest_command(directory: Path) -> str:
    """The shell line that writes a manifest for `directory` (-L follows the HF cache's symlinks)."""
    return f"cd {shlex.quote(str(directory))} && find -L . -type f ! -name {MANIFEST} -exec sha256sum {{}} + > {MANIFEST}"


def _listed_path(raw: str) -> str | None:
    """The manifest's path normalised to 'a/b' (None when it would leave the directory)."""
    name = raw.strip()
    while name.startswith("./"):
        name = name[2:]
    if not name or name.startswith("/") or "\\" in name:
        return None
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    return "/".join(parts)


def verify(directory: Path, *, cache: DigestCache | None = None) -> list[str]:
    """Everything wrong with `directory` against its SHA256SUMS, each problem a sentence that names the
    file and says what to do; [] when the weights are as the manifest says. Checks: the manifest exists
    and parses, every listed file exists with the listed digest, and no weight file (WEIGHT_SUFFIXES) is
    present without being listed (an unlisted weight would be loaded unchecked)."""
    directory = Path(directory)
    cache = cache or default_digest_cache()
    if not directory.is_dir():
        return [f"{directory} does not exist"]
    manifest = directory / MANIFEST
    if not manifest.is_file():
        return [f"{directory} has no {MANIFEST} manifest; make one with: {manifest_command(directory)}"]
    problems: list[str] = []
    listed: dict[str, str] = {}
    try:
        text = manifest.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{manifest} cannot be read: {exc}"]
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line.rstrip("\r"))
        if not m:
            problems.append(f"{MANIFEST} line {n} is not '<64 hex digits>  <path>' (sha256sum format): {line[:60]!r}")
            continue
        rel = _listed_path(m.group(2))
        if rel is None:
            problems.append(f"{MANIFEST} line {n} names {m.group(2)!r}, which is outside the model directory")
            continue
        listed[rel] = m.group(1).lower()
    if not listed and not problems:
        problems.append(f"{MANIFEST} lists no files; remake it with: {manifest_command(directory)}")
    try:
        for rel, expected in listed.items():
            path = directory / rel
            if not path.is_file():
                problems.append(f"{rel} is listed in {MANIFEST} but missing from {directory}")
                continue
            try:
                found = cache.sha256(path)
            except OSError as exc:
                problems.append(f"{rel} cannot be read: {exc}")
                continue
            if found != expected:
                problems.append(f"{rel} does not match {MANIFEST}: expected sha256 {expected[:12]}…, found "
                                f"{found[:12]}… (a partial or different file; copy it again, or remake the "
                                "manifest if the new file is the one you want)")
    finally:
        cache.save()
    for root, _dirs, files in os.walk(directory):
        for name in files:
            if not name.lower().endswith(WEIGHT_SUFFIXES):
                continue
            rel = Path(root, name).relative_to(directory).as_posix()
            if rel not in listed:
                problems.append(f"{rel} is a weight file not listed in {MANIFEST}; list it with: cd "
                                f"{shlex.quote(str(directory))} && sha256sum {shlex.quote(rel)} >> {MANIFEST}")
    return problems


# ------------------------------------------------------------------------------------------ runners
class DirectoryRunner(RunnerBase):
    """The shared half of the torch runners that load from a directory (diffusion.py, vision.py), on top of
    the runners' RunnerBase (identity, errors naming pipeline and model, the model-id check): the
    directory, the dtype for a device, memory from the loaded modules, and one inference at a time per
    loaded model (diffusers schedulers and generate() keep per-call state on the model object; capacity
    > 1 queues on this lock rather than corrupting it)."""

    def __init__(self, pipeline: Pipeline, model_id: str, directory: Path, description: str) -> None:
        super().__init__(pipeline, model_id, description, bundled=False)
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def _where(self, message: str) -> str:
        return f"{self.pipeline.value} ({self.model_id}): {message}"

    def failed(self, message: str) -> RunnerFailed:
        return RunnerFailed(self._where(message), pipeline=self.pipeline.value, model_id=self.model_id)

    def check_type(self, request: AIRequest, kind: type) -> None:
        if not isinstance(request, kind):
            raise self.bad_request(f"expected a {kind.__name__}, got {type(request).__name__}")

    # device ---------------------------------------------------------------------------------------
    @staticmethod
    def torch_dtype(device: str):
        """float16 on CUDA (what the Livepeer images run), float32 on the CPU (half is slow or missing)."""
        import torch

        return torch.float16 if device.startswith("cuda") else torch.float32

    @staticmethod
    def prepare_torch(device: str) -> None:
        """Before a load: no progress bars or advice from transformers/diffusers on stderr (lpc's console owns
        the terminal), and on the CPU core.ai.device.torch_threads() intra-op threads (process-wide, as the
        bundled llm runner sets it): torch's spinning OpenMP workers cost more than they give when busy."""
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()
        try:
            from diffusers.utils import logging as diffusers_logging

            diffusers_logging.disable_progress_bar()
            diffusers_logging.set_verbosity_error()
        except ImportError:
            pass
        if device.startswith("cuda"):
            return
        import torch

        from core.ai.device import torch_threads

        torch.set_num_threads(torch_threads())

    def modules(self) -> list:
        """The torch modules holding the weights (for memory_bytes)."""
        return []

    def memory_bytes(self) -> int | None:
        mods = self.modules()
        if not mods:
            return None
        total = 0
        for m in mods:
            for t in list(m.parameters()) + list(m.buffers()):
                total += t.numel() * t.element_size()
        return total

    def release(self) -> None:
        """Called by unload() after dropping the references: give CUDA memory back."""
        was = self.device
        self.device = ""
        if was.startswith("cuda"):
            try:
                import torch

                torch.cuda.empty_cache()
            except Exception:  # noqa: BLE001 - best effort; the references are gone either way
                pass


class UserWeightsRunner:
    """A ModelRunner for weights in -aiModelsDir: finds the directory, insists that it verifies against its
    SHA256SUMS (available() and again in load()), then hands loading and inference to the runner that
    `engine(directory)` builds. The directory is looked up afresh each time, so copying the weights in
    (or moving refs/main) is picked up without a restart."""

    def __init__(self, spec: ModelSpec, models_dir: Path | None, engine: Callable[[Path], object], description: str,
                 *, cache: DigestCache | None = None) -> None:
        self.spec = spec
        self.pipeline = spec.pipeline
        self.model_id = spec.model_id
        self.bundled = False
        self.description = description
        self.models_dir = Path(models_dir) if models_dir is not None else None
        self._engine_factory = engine
        self._engine = None
        self._cache = cache

    def _need(self) -> str:
        return NEEDS.get(self.pipeline, f"lpc has no loader for user-supplied {self.pipeline.value} weights")

    def directory(self) -> tuple[Path | None, str | None]:
        """(directory, None) when the weights are there, else (None, why not)."""
        problem = model_id_problem(self.model_id)
        if problem:
            return None, f"{problem} ({self._need()})"
        if self.models_dir is None:
            return None, f"no weights for {self.model_id}: -aiModelsDir is not set ({self._need()})"
        found = model_dir(self.models_dir, self.model_id)
        if found is None:
            return None, f"no weights for {self.model_id} at {self.models_dir / self.model_id} ({self._need()})"
        return found, None

    def _engine_for(self, directory: Path):
        if self._engine is None or Path(getattr(self._engine, "directory", directory)) != directory:
            if self._engine is not None and self._engine.loaded:
                return self._engine  # keep serving what is loaded; a new revision is picked up by unload+load
            self._engine = self._engine_factory(directory)
        return self._engine

    def available(self) -> str | None:
        directory, problem = self.directory()
        if problem:
            return problem
        problems = verify(directory, cache=self._cache)
        if problems:
            return f"weights for {self.model_id} at {directory} do not verify: " + "; ".join(problems)
        try:
            engine = self._engine_for(directory)
        except ImportError as exc:
            return f"the {self.pipeline.value} runner cannot be imported: {exc}"
        return engine.available()

    def load(self, device: str) -> None:
        problem = self.available()  # re-verifies: a file changed since start is refused, not loaded
        if problem:
            raise ModelUnavailable(f"{self.pipeline.value} ({self.model_id}): {problem}",
                                   pipeline=self.pipeline.value, model_id=self.model_id)
        directory, _ = self.directory()
        self._engine_for(directory).load(device)

    def unload(self) -> None:
        if self._engine is not None:
            self._engine.unload()

    @property
    def loaded(self) -> bool:
        return self._engine is not None and self._engine.loaded

    @property
    def device(self) -> str:
        return getattr(self._engine, "device", "") if self._engine is not None else ""

    def memory_bytes(self) -> int | None:
        return self._engine.memory_bytes() if self.loaded else None

    def _loaded_engine(self):
        if not self.loaded:
            raise ModelUnavailable(f"{self.pipeline.value} ({self.model_id}): the model is not loaded",
                                   pipeline=self.pipeline.value, model_id=self.model_id)
        return self._engine

    def run(self, request: AIRequest):
        return self._loaded_engine().run(request)

    def stream(self, request):
        return self._loaded_engine().stream(request)


# ------------------------------------------------------------------------------------------ dispatch
def _engine(spec: ModelSpec) -> tuple[Callable[[Path], object], str]:
    """(directory -> runner, description) for the spec's pipeline. Imports stay inside the factories."""
    p, mid = spec.pipeline, spec.model_id
    if p in (Pipeline.TEXT_TO_IMAGE, Pipeline.IMAGE_TO_IMAGE, Pipeline.IMAGE_TO_VIDEO, Pipeline.UPSCALE):
        def diffusion(directory: Path):
            from core.ai.runners.diffusion import DiffusionRunner

            return DiffusionRunner(p, mid, directory)

        return diffusion, f"{mid} (diffusers, user-supplied weights)"
    if p is Pipeline.IMAGE_TO_TEXT:
        def caption(directory: Path):
            from core.ai.runners.vision import ImageToTextRunner

            return ImageToTextRunner(mid, directory)

        return caption, f"{mid} (transformers, user-supplied weights)"
    if p is Pipeline.SEGMENT_ANYTHING_2:
        def sam2(directory: Path):
            from core.ai.runners.vision import Sam2Runner

            return Sam2Runner(mid, directory)

        return sam2, f"{mid} (transformers Sam2Model, user-supplied weights)"
    # llm and audio-to-text: the bundled runners' classes, which take a directory getter
    if p is Pipeline.LLM:
        description = f"{mid} (transformers, user-supplied weights)"

        def causal_lm(directory: Path):
            from core.ai.runners.causal_lm import CausalLMRunner

            return _with_directory(CausalLMRunner(mid, lambda: directory, description=description, bundled=False),
                                   directory)

        return causal_lm, description
    if p is Pipeline.AUDIO_TO_TEXT:
        description = f"{mid} (faster-whisper, user-supplied weights)"

        def whisper(directory: Path):
            from core.ai.runners.whisper import WhisperRunner

            return _with_directory(WhisperRunner(mid, lambda: directory, description=description, bundled=False),
                                   directory)

        return whisper, description
    return _no_loader(spec), f"{mid} (no loader for user-supplied {p.value} weights)"


def _with_directory(runner, directory: Path):
    """Tag a runner with the directory it serves (UserWeightsRunner rebuilds it when that changes)."""
    runner.directory = directory
    return runner


def _no_loader(spec: ModelSpec) -> Callable[[Path], object]:
    def factory(directory: Path):
        raise ImportError(f"lpc has no loader for user-supplied {spec.pipeline.value} weights; serve "
                          f"{spec.pipeline.value} with its bundled model")

    return factory


def user_runner(spec: ModelSpec, models_dir: Path | None, *, cache: DigestCache | None = None) -> UserWeightsRunner:
    """The runner for `spec`'s user-supplied weights under `models_dir` (-aiModelsDir; None when unset).
    Never raises: a missing directory, a bad manifest or a pipeline without a loader shows up as
    available()'s reason and as ModelUnavailable from load()."""
    factory, description = _engine(spec)
    return UserWeightsRunner(spec, models_dir, factory, description, cache=cache)
