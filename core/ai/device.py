"""Which device each engine runs a model on, decided by probing, never by a flag alone.

    device, reason = probe_device()        # ("cuda:0", "CUDA: NVIDIA …") or ("cpu", "no CUDA device: …")
    ncnn_vulkan_device()                   # Vulkan GPU index for ncnn (Real-ESRGAN), or None -> CPU
    ctranslate2_device()                   # ("cuda", "int8_float16") or ("cpu", "int8") for faster-whisper
    cpu_threads()                          # threads per model on this machine's cores
    torch_threads()                        # torch's share of them (its OpenMP threads spin)

Each engine is imported only inside its probe (torch takes seconds to import; ncnn prints its Vulkan
device list on first use), so importing this module is free. The GPU branches are the paths users with
a GPU take; this machine has none, so the CPU branches are what its tests run.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from functools import lru_cache

# ncnn's VkPhysicalDeviceType as its GpuInfo.type() reports it: 0 discrete, 1 integrated, 2 virtual, 3 CPU.
_NCNN_REAL_GPU_TYPES = (0, 1)


def cpu_threads() -> int:
    """Intra-op threads for one model: every core the process may use, at most 8 (more only adds
    contention between the models that share them)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


def torch_threads() -> int:
    """torch intra-op threads: half the cores, at least one. torch's OpenMP workers spin while they wait,
    so when the cores are also busy with other work (transcoding, the other models) every extra thread
    costs far more than it gives: SmolLM2-135M on this 2-core machine under load made 8 tokens in ~2.8 s
    with 1 thread and ~17 s with 2."""
    return max(1, cpu_threads() // 2)


@lru_cache(maxsize=1)
def probe_device() -> tuple[str, str]:
    """("cuda:0", reason) when torch sees a CUDA device, else ("cpu", why not), in words for the console."""
    try:
        import torch
    except ImportError:
        return "cpu", "torch is not installed, so no CUDA device can be used"
    try:
        if torch.cuda.is_available():
            return "cuda:0", f"CUDA device 0: {torch.cuda.get_device_name(0)}"
    except Exception as exc:  # a broken driver is "no GPU", never a crash
        return "cpu", f"CUDA probe failed ({exc}); running on the CPU"
    build = "a CPU-only torch build" if torch.version.cuda is None else f"torch built for CUDA {torch.version.cuda}"
    return "cpu", f"no CUDA device visible ({build}); running on the CPU with {cpu_threads()} threads"


@lru_cache(maxsize=1)
def ncnn_vulkan_device() -> int | None:
    """Index of the first discrete or integrated Vulkan GPU ncnn sees, or None to run on the CPU.
    Software rasterisers (llvmpipe, SwiftShader: type CPU) are skipped: they are slower than ncnn's CPU path."""
    try:
        import ncnn
    except ImportError:
        return None
    try:
        with stderr_silenced():  # ncnn prints every Vulkan device to fd 2, which would scribble on the console
            for index in range(ncnn.get_gpu_count()):
                if ncnn.get_gpu_info(index).type() in _NCNN_REAL_GPU_TYPES:
                    return index
    except Exception:
        return None
    return None


@contextmanager
def stderr_silenced():
    """fd 2 points at /dev/null for the duration (C libraries write there directly, past sys.stderr)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
        finally:
            os.close(devnull)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@lru_cache(maxsize=1)
def ctranslate2_device() -> tuple[str, str]:
    """(device, compute_type) for CTranslate2 (faster-whisper): CUDA with int8 weights and fp16 activations
    when it has a CUDA device, else the CPU with int8."""
    try:
        import ctranslate2
    except ImportError:
        return "cpu", "int8"
    try:
        if ctranslate2.get_cuda_device_count() > 0:
            return "cuda", "int8_float16"
    except Exception:
        pass
    return "cpu", "int8"
