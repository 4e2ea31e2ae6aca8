"""MediaPipe's selfie segmentation model (Apache-2.0): where its .tflite comes from and the ONNX lpc runs.

MediaPipe 0.10.21 is the last release whose wheel ships the model files (later ones download them at run
time), and it needs numpy<2 and protobuf<5, so it cannot be installed beside lpc. Only the one 0.25 MB file
is taken from its wheel, at setup time:

    python -m core.live.pipelines.selfie_model [mediapipe-0.10.21-….whl]
        (no argument: `pip download --no-deps mediapipe==0.10.21` into a temporary folder first)
        -> <venv>/share/lpc/models/mediapipe-0.10.21/selfie_segmentation.tflite, sha256-checked

and converted once to ONNX (core/live/pipelines/tflite_to_onnx.py) into model_cache_dir(), under a file
lock, named by the .tflite's digest so a changed source is never served by a stale conversion.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from core.ai.cache import model_cache_dir
from core.ai.runners.base import module_missing, sha256_of
from core.live.ports import PipelineUnavailable

MEDIAPIPE = "mediapipe==0.10.21"
MEMBER = "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite"
TFLITE_SHA256 = "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c"
INSTALL = "run packaging/setup.sh install, or: python -m core.live.pipelines.selfie_model"
CONVERTER_PACKAGES = "pip install tflite==2.18.0 onnx==1.23.2"
INPUT_NAME, OUTPUT_NAME = "image", "mask"
CONVERTER_VERSION = 1  # bump when tflite_to_onnx changes what it writes


def tflite_path() -> Path:
    return Path(sys.prefix) / "share" / "lpc" / "models" / "mediapipe-0.10.21" / "selfie_segmentation.tflite"


def onnx_path() -> Path:
    return model_cache_dir() / f"selfie_segmentation-{TFLITE_SHA256[:16]}-v{CONVERTER_VERSION}.onnx"


def problem() -> str | None:
    """None when the model can be loaded (the .tflite is in place and pinned, and either its ONNX is
    already converted or the converter's packages are installed), else what to do."""
    src = tflite_path()
    if not src.is_file():
        return f"MediaPipe's selfie_segmentation.tflite is not installed at {src} ({INSTALL})"
    if sha256_of(src) != TFLITE_SHA256:
        return f"{src} is not the pinned selfie_segmentation.tflite (sha256 {TFLITE_SHA256[:16]}…); {INSTALL}"
    if not onnx_path().is_file():
        missing = [m for m in ("tflite", "onnx") if module_missing(m)]
        if missing:
            return f"converting the selfie model needs the package(s) {', '.join(missing)} ({CONVERTER_PACKAGES})"
    if module_missing("onnxruntime"):
        return "the package onnxruntime is not installed (pip install onnxruntime)"
    return None


def ensure_onnx() -> Path:
    """The converted model, converting it first if no process has yet (PipelineUnavailable if it cannot)."""
    target = onnx_path()
    if target.is_file():
        return target
    why = problem()
    if why:
        raise PipelineUnavailable(why)
    from filelock import FileLock

    from core.live.pipelines.tflite_to_onnx import UnsupportedModel, convert

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock", timeout=300):
        if target.is_file():  # another process converted it while this one waited
            return target
        try:
            data = convert(tflite_path().read_bytes(), input_name=INPUT_NAME, output_name=OUTPUT_NAME)
        except (UnsupportedModel, ValueError) as exc:
            raise PipelineUnavailable(f"could not convert {tflite_path()} to ONNX: {exc}") from None
        partial = target.with_name(target.name + f".{os.getpid()}.part")
        partial.write_bytes(data)
        os.replace(partial, target)
    return target


def install_tflite(wheel: Path | None = None) -> Path:
    """Put the pinned .tflite in place from `wheel` (or a freshly pip-downloaded mediapipe 0.10.21 wheel)."""
    dest = tflite_path()
    if dest.is_file() and sha256_of(dest) == TFLITE_SHA256:
        return dest
    with tempfile.TemporaryDirectory(prefix="lpc-mediapipe-") as tmp:
        if wheel is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                            "--no-deps", "--only-binary=:all:", MEDIAPIPE, "-d", tmp], check=True)
            wheels = sorted(Path(tmp).glob("mediapipe-*.whl"))
            if not wheels:
                raise RuntimeError(f"pip download {MEDIAPIPE} produced no wheel")
            wheel = wheels[0]
        with zipfile.ZipFile(wheel) as zf:
            try:
                data = zf.read(MEMBER)
            except KeyError:
                raise RuntimeError(f"{wheel.name} has no {MEMBER}; use {MEDIAPIPE}") from None
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        if digest != TFLITE_SHA256:
            raise RuntimeError(f"{MEMBER} in {wheel.name} has sha256 {digest}, not the pinned {TFLITE_SHA256}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(dest.name + ".part")
        partial.write_bytes(data)
        os.replace(partial, dest)
    return dest


def main(argv: list[str]) -> int:
    try:
        path = install_tflite(Path(argv[0]) if argv else None)
    except (RuntimeError, OSError, subprocess.CalledProcessError, zipfile.BadZipFile) as exc:
        print(f"selfie segmentation model not installed: {exc}", file=sys.stderr)
        return 1
    print(f"selfie segmentation model: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
