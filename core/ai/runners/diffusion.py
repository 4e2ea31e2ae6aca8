"""text-to-image, image-to-image, image-to-video and upscale from a diffusers save_pretrained directory the
operator supplied (SDXL-Lightning, sd-turbo, instruct-pix2pix, Stable Video Diffusion, the reference
stabilityai/stable-diffusion-x4-upscaler …), on CUDA in float16 when
the worker's probe found a GPU, else on the CPU in float32.

    runner = DiffusionRunner(Pipeline.TEXT_TO_IMAGE, "stabilityai/sd-turbo", directory)
    runner.load("cpu"); result = runner.run(TextToImageRequest(prompt="a lighthouse", seed=7))

Loading: AutoPipelineForText2Image / AutoPipelineForImage2Image pick the task class for the directory's
model_index.json; pipelines the auto mapping does not know (instruct-pix2pix, Stable Video Diffusion, the
x4 upscaler) load
as the class model_index.json names (DiffusionPipeline). Always local_files_only: nothing is downloaded,
so a model_index.json that names a component without files fails the load with diffusers' reason.

Request semantics follow ai-runner and the SDK: a missing seed is drawn at random, image i of a request
uses seed + i (so any image can be reproduced alone); arguments a pipeline does not take are not passed
(image_guidance_scale reaches instruct-pix2pix only, strength only the pipelines that take it).

Safety: lpc never downloads a safety checker. When the directory ships one (model_index.json lists a
safety_checker with its files), it runs for requests with safety_check true and each image's nsfw flag is
the checker's verdict (the checker also blanks flagged images, as diffusers does). Without one, nsfw is
False: nothing checked the image, which is what an operator who left the checker out asked for.
"""

from __future__ import annotations

import inspect
import json
import secrets
from pathlib import Path

from core.ai.ports import (
    ImagesResult,
    ImageToImageRequest,
    ImageToVideoRequest,
    Media,
    Pipeline,
    TextToImageRequest,
    TooLarge,
    UpscaleRequest,
)
from core.ai.user_weights import DirectoryRunner

MIN_SIDE, MAX_SIDE = 8, 2048
MAX_PIXELS = 2048 * 2048  # per image; also the input image bound for image-to-image
MAX_STEPS = 200
MAX_IMAGES = 8
MAX_GUIDANCE = 50.0
MAX_PROMPT_CHARS = 4000
MAX_SEED = 2**63 - 1 - MAX_IMAGES  # seed + i must stay a valid torch seed
MAX_FPS = 60
MAX_UPSCALE_INPUT = 1024 * 1024  # the x4 upscaler makes 16x the pixels: 4096x4096 out at this bound
DECODE_CHUNK = 8  # SVD decodes this many frames at a time (all at once needs GBs at 1024x576)

_AUTO = {Pipeline.TEXT_TO_IMAGE: "AutoPipelineForText2Image", Pipeline.IMAGE_TO_IMAGE: "AutoPipelineForImage2Image"}
_REQUEST = {Pipeline.TEXT_TO_IMAGE: TextToImageRequest, Pipeline.IMAGE_TO_IMAGE: ImageToImageRequest,
            Pipeline.IMAGE_TO_VIDEO: ImageToVideoRequest, Pipeline.UPSCALE: UpscaleRequest}


class DiffusionRunner(DirectoryRunner):
    """One diffusers pipeline for one of the three image/video pipelines."""

    def __init__(self, pipeline: Pipeline, model_id: str, directory: Path) -> None:
        if pipeline not in _REQUEST:
            raise ValueError(f"DiffusionRunner serves {', '.join(p.value for p in _REQUEST)}, not {pipeline.value}")
        super().__init__(pipeline, model_id, directory, f"{model_id} (diffusers, user-supplied weights)")
        self._pipe = None
        self._params: frozenset[str] = frozenset()

    # ModelRunner ----------------------------------------------------------------------------------
    def available(self) -> str | None:
        index = self.directory / "model_index.json"
        if not index.is_file():
            return (f"{self.directory} has no model_index.json: {self.pipeline.value} needs a diffusers "
                    "save_pretrained directory (pipeline.save_pretrained(dir) writes one)")
        try:
            json.loads(index.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return f"{index} is not valid JSON: {exc}"
        return None

    @property
    def loaded(self) -> bool:
        return self._pipe is not None

    def load(self, device: str) -> None:
        self.require_available()
        try:
            import diffusers
        except ImportError:
            raise self.unavailable("diffusers is not installed") from None
        dtype = self.torch_dtype(device)
        self.prepare_torch(device)
        options = dict(local_files_only=True, dtype=dtype)
        if self.fp16_only():
            options["variant"] = "fp16"
        try:
            pipe = None
            auto = _AUTO.get(self.pipeline)
            if auto:
                try:
                    pipe = getattr(diffusers, auto).from_pretrained(self.directory, **options)
                except ValueError as exc:
                    if "AutoPipeline can't find" not in str(exc):
                        raise
            if pipe is None:  # instruct-pix2pix, SVD and other classes the auto mapping lacks
                pipe = diffusers.DiffusionPipeline.from_pretrained(self.directory, **options)
        except Exception as exc:  # noqa: BLE001 - any load failure (safetensors, missing class …) is "unavailable: why"
            raise self.unavailable(f"diffusers could not load {self.directory}: {exc}") from None
        params = frozenset(inspect.signature(pipe.__call__).parameters)
        wrong = self._misfit(params)
        if wrong:
            raise self.unavailable(f"{self.directory} holds a {type(pipe).__name__}, which {wrong}")
        try:
            pipe = pipe.to(device)
        except (RuntimeError, ValueError) as exc:
            raise self.unavailable(f"could not move the pipeline to {device}: {exc}") from None
        pipe.set_progress_bar_config(disable=True)
        self._pipe, self._params, self.device = pipe, params, device

    def fp16_only(self) -> bool:
        """True when the directory holds only the fp16 variant of its weights (`*.fp16.safetensors`, what
        `huggingface-cli download --include "*.fp16.*"` fetches): diffusers must then be asked for that
        variant, or it looks for the plain files and fails. On the CPU they are loaded as float32."""
        weights = [p.name for p in self.directory.rglob("*") if p.name.endswith((".safetensors", ".bin"))]
        fp16 = [n for n in weights if ".fp16." in n]
        return bool(fp16) and len(fp16) == len(weights)

    def _misfit(self, params: frozenset[str]) -> str | None:
        if self.pipeline is Pipeline.TEXT_TO_IMAGE and "prompt" not in params:
            return "takes no prompt, so it cannot do text-to-image"
        if self.pipeline is Pipeline.IMAGE_TO_IMAGE and not {"prompt", "image"} <= params:
            return "does not take a prompt and an image, so it cannot do image-to-image"
        if self.pipeline is Pipeline.UPSCALE and not {"prompt", "image", "noise_level"} <= params:
            return "is not a diffusion upscaler (no prompt, image and noise_level), so it cannot do upscale"
        if self.pipeline is Pipeline.IMAGE_TO_VIDEO and not ("image" in params and "num_frames" in params):
            return "does not turn an image into frames, so it cannot do image-to-video"
        return None

    def unload(self) -> None:
        self._pipe = None
        self._params = frozenset()
        self.release()

    def modules(self) -> list:
        if self._pipe is None:
            return []
        import torch

        return [m for m in self._pipe.components.values() if isinstance(m, torch.nn.Module)]

    def run(self, request):
        self.check_type(request, _REQUEST[self.pipeline])
        self.check_model(request)
        if isinstance(request, TextToImageRequest):
            self._validate_images(request)
            return self._images(request, None)
        if isinstance(request, ImageToImageRequest):
            self._validate_images(request)
            self._check_range("strength", request.strength, 0.0, 1.0)
            self._check_range("image_guidance_scale", request.image_guidance_scale, 0.0, MAX_GUIDANCE)
            return self._images(request, self._input_image(request.image))
        if isinstance(request, UpscaleRequest):
            self._check_range("num_inference_steps", request.num_inference_steps, 1, MAX_STEPS)
            self._check_seed(request.seed)
            if len(request.prompt or "") > MAX_PROMPT_CHARS:
                raise TooLarge(self._where(f"prompt is {len(request.prompt)} characters; the limit is {MAX_PROMPT_CHARS}"),
                               pipeline=self.pipeline.value, model_id=self.model_id)
            return self._images(request, self._input_image(request.image, MAX_UPSCALE_INPUT))
        self._validate_video(request)
        return self._video(request, self._input_image(request.image))

    # validation -----------------------------------------------------------------------------------
    def _check_range(self, name: str, value, low, high) -> None:
        if value is None or not (low <= value <= high):
            raise self.bad_request(f"{name} must be between {low} and {high}, got {value}")

    def _check_side(self, name: str, value: int) -> None:
        if not isinstance(value, int) or not (MIN_SIDE <= value <= MAX_SIDE):
            raise self.bad_request(f"{name} must be between {MIN_SIDE} and {MAX_SIDE} pixels, got {value}")
        if value % 8:
            raise self.bad_request(f"{name} must be divisible by 8, got {value}")

    def _check_seed(self, seed) -> None:
        if seed is not None and (not isinstance(seed, int) or not (0 <= seed <= MAX_SEED)):
            raise self.bad_request(f"seed must be an integer from 0 to {MAX_SEED}, got {seed}")

    def _check_loras(self, loras: str) -> None:
        text = (loras or "").strip()
        if not text:
            return
        try:
            parsed = json.loads(text)
        except ValueError:
            raise self.bad_request(f"loras must be a JSON object of LoRA id to weight, got {text[:80]!r}") from None
        if not isinstance(parsed, dict):
            raise self.bad_request(f"loras must be a JSON object of LoRA id to weight, got {text[:80]!r}")
        if parsed:
            raise self.bad_request("LoRAs are not supported: lpc loads only the weights in -aiModelsDir and never "
                                   "downloads; send loras as \"\" or {}")

    def _validate_images(self, request) -> None:
        prompt = request.prompt or ""
        if not prompt.strip():
            raise self.bad_request("Prompt must be provided.")
        for name in ("prompt", "negative_prompt"):
            text = getattr(request, name) or ""
            if len(text) > MAX_PROMPT_CHARS:
                raise TooLarge(self._where(f"{name} is {len(text)} characters; the limit is {MAX_PROMPT_CHARS}"),
                               pipeline=self.pipeline.value, model_id=self.model_id)
        if isinstance(request, TextToImageRequest):
            self._check_side("height", request.height)
            self._check_side("width", request.width)
        self._check_range("guidance_scale", request.guidance_scale, 0.0, MAX_GUIDANCE)
        self._check_range("num_inference_steps", request.num_inference_steps, 1, MAX_STEPS)
        self._check_range("num_images_per_prompt", request.num_images_per_prompt, 1, MAX_IMAGES)
        self._check_seed(request.seed)
        self._check_loras(request.loras)

    def _validate_video(self, request: ImageToVideoRequest) -> None:
        self._check_side("height", request.height)
        self._check_side("width", request.width)
        self._check_range("fps", request.fps, 1, MAX_FPS)
        self._check_range("motion_bucket_id", request.motion_bucket_id, 0, 255)
        self._check_range("noise_aug_strength", request.noise_aug_strength, 0.0, 1.0)
        self._check_range("num_inference_steps", request.num_inference_steps, 1, MAX_STEPS)
        self._check_seed(request.seed)

    def _input_image(self, upload, limit: int = MAX_PIXELS):
        from core.ai.media import decode_image, image_size

        w, h = image_size(upload, pipeline=self.pipeline.value)
        if w * h > limit:
            side = int(limit ** 0.5)
            raise TooLarge(self._where(f"{upload.filename or 'the image'} is {w}x{h}; {self.pipeline.value} takes "
                                       f"at most {limit} pixels (e.g. {side}x{side})"),
                           pipeline=self.pipeline.value, model_id=self.model_id)
        return decode_image(upload, pipeline=self.pipeline.value)

    # inference ------------------------------------------------------------------------------------
    def _require_pipe(self):
        if self._pipe is None:
            raise self.unavailable("the model is not loaded")
        return self._pipe

    def _accepted(self, kwargs: dict) -> dict:
        return {k: v for k, v in kwargs.items() if k in self._params}

    def _images(self, request, image) -> ImagesResult:
        import torch

        from core.ai.media import encode_png

        pipe = self._require_pipe()
        if isinstance(request, ImageToImageRequest) and "strength" in self._params \
                and int(request.num_inference_steps * request.strength) < 1:
            raise self.bad_request(f"strength {request.strength} x num_inference_steps {request.num_inference_steps} "
                                   "leaves no denoising step (img2img runs strength x steps of them); raise either")
        seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
        n = getattr(request, "num_images_per_prompt", 1)
        generators = [torch.Generator(device="cpu").manual_seed(seed + i) for i in range(n)]
        kwargs = dict(prompt=request.prompt, num_inference_steps=request.num_inference_steps,
                      num_images_per_prompt=n, generator=generators, output_type="pil")
        if isinstance(request, UpscaleRequest):  # the upscaler's own guidance and noise_level defaults apply
            kwargs.update(image=image)
        else:
            kwargs.update(negative_prompt=request.negative_prompt or None, guidance_scale=request.guidance_scale)
            if image is None:
                kwargs.update(height=request.height, width=request.width)
            else:
                kwargs.update(image=image, strength=request.strength,
                              image_guidance_scale=request.image_guidance_scale)
        with self._lock:
            checker = getattr(pipe, "safety_checker", None)
            try:
                if checker is not None and not request.safety_check:
                    pipe.safety_checker = None  # this request asked for no check; restored below
                with torch.inference_mode():
                    out = pipe(**self._accepted(kwargs))
            except (RuntimeError, ValueError, TypeError, IndexError) as exc:
                raise self.failed(f"the diffusion pipeline failed: {exc}") from None
            finally:
                if checker is not None:
                    pipe.safety_checker = checker
        flags = getattr(out, "nsfw_content_detected", None) or [False] * len(out.images)
        return ImagesResult(images=tuple(
            Media(data=encode_png(img), content_type="image/png", extension=".png", seed=seed + i,
                  nsfw=bool(flags[i]) if i < len(flags) else False)
            for i, img in enumerate(out.images)))

    def _video(self, request: ImageToVideoRequest, image) -> ImagesResult:
        import torch

        from core.ai.media import encode_mp4

        pipe = self._require_pipe()
        seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
        kwargs = dict(image=image, height=request.height, width=request.width, fps=request.fps,
                      motion_bucket_id=request.motion_bucket_id, noise_aug_strength=request.noise_aug_strength,
                      num_inference_steps=request.num_inference_steps, decode_chunk_size=DECODE_CHUNK,
                      generator=torch.Generator(device="cpu").manual_seed(seed), output_type="pil")
        with self._lock:
            try:
                with torch.inference_mode():
                    out = pipe(**self._accepted(kwargs))
            except (RuntimeError, ValueError, TypeError, IndexError) as exc:
                raise self.failed(f"the video pipeline failed: {exc}") from None
        frames = out.frames[0] if out.frames is not None and len(out.frames) else []
        if not len(frames):
            raise self.failed("the video pipeline returned no frames")
        return ImagesResult(images=(Media(data=encode_mp4(list(frames), fps=request.fps), content_type="video/mp4",
                                          extension=".mp4", seed=seed, nsfw=False),))
