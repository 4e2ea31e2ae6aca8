"""image-to-text and segment-anything-2 from transformers save_pretrained directories the operator supplied
(BLIP captioning, SAM 2), on CUDA in float16 when the probe found a GPU, else on the CPU in float32.

    ImageToTextRunner("Salesforce/blip-image-captioning-large", directory)   -> ImageTextResult
    Sam2Runner("facebook/sam2.1-hiera-large", directory)                      -> MasksResult

image-to-text: AutoProcessor + BlipForConditionalGeneration for BLIP directories, else
AutoModelForImageTextToText. A prompt is conditional text: BLIP continues it, so the caption starts with
the prompt (as BLIP's own examples show); decoder-only models return only the new text. Greedy decoding.

segment-anything-2: transformers' Sam2Model. Its image processor (Sam2ImageProcessor) needs torchvision,
which does not install beside the torch lpc ships, so the two steps it does for a single image are done
here in torch: resize to the model's square input size and normalise with the directory's
preprocessor_config.json mean/std (ImageNet's when absent); the low-resolution mask logits are resized
bilinearly back to the image's size, as SAM 2's own predictor does. Prompts arrive as JSON strings (the SDK
sends them so): point_coords [[x, y], …] with point_labels [1|0, …], box [x1, y1, x2, y2], mask_input a
low-resolution logit mask [[…]] (or [[[…]]]), in image pixels when normalize_coords is true, else in 0..1.
The answer follows ai-runner (ai-gateway-wire.md trap 7): masks, scores and logits as Python-literal
nested lists in strings, sorted by score, best first; masks are logits when return_logits is true, else
0.0/1.0.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.ai.ports import ImageTextResult, ImageToTextRequest, MasksResult, Pipeline, SegmentAnything2Request, TooLarge
from core.ai.user_weights import DirectoryRunner

MAX_PROMPT_CHARS = 1000
MAX_NEW_TOKENS = 64
MAX_SAM_PIXELS = 1024 * 1024  # the masks go back as text at full size: ~60 MB of it at this bound
MAX_POINTS = 64
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _config(directory: Path) -> dict | str:
    """config.json as a dict, or why it cannot be read."""
    path = directory / "config.json"
    if not path.is_file():
        return f"{directory} has no config.json (not a transformers save_pretrained directory)"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"{path} is not valid JSON: {exc}"
    return data if isinstance(data, dict) else f"{path} is not a JSON object"


class ImageToTextRunner(DirectoryRunner):
    def __init__(self, model_id: str, directory: Path) -> None:
        super().__init__(Pipeline.IMAGE_TO_TEXT, model_id, directory, f"{model_id} (transformers, user-supplied weights)")
        self._model = None
        self._processor = None
        self._decoder_only = False

    def available(self) -> str | None:
        config = _config(self.directory)
        if isinstance(config, str):
            return config
        if not any((self.directory / n).is_file() for n in ("preprocessor_config.json", "processor_config.json")):
            return (f"{self.directory} has no preprocessor_config.json or processor_config.json: image-to-text needs "
                    "the processor saved beside the model (processor.save_pretrained(dir))")
        return None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self, device: str) -> None:
        self.require_available()
        try:
            import transformers
        except ImportError:
            raise self.unavailable("transformers is not installed") from None
        config = _config(self.directory)
        dtype = self.torch_dtype(device)
        self.prepare_torch(device)
        try:
            processor = transformers.AutoProcessor.from_pretrained(self.directory, local_files_only=True)
            if config.get("model_type") == "blip":
                cls = transformers.BlipForConditionalGeneration
            else:
                cls = transformers.AutoModelForImageTextToText
            model = cls.from_pretrained(self.directory, local_files_only=True, dtype=dtype).to(device).eval()
        except Exception as exc:  # noqa: BLE001 - any load failure (safetensors, missing class …) is "unavailable: why"
            raise self.unavailable(f"transformers could not load {self.directory}: {exc}") from None
        self._decoder_only = config.get("model_type") != "blip" and not getattr(model.config, "is_encoder_decoder", False)
        self._model, self._processor, self.device = model, processor, device

    def unload(self) -> None:
        self._model = self._processor = None
        self.release()

    def modules(self) -> list:
        return [self._model] if self._model is not None else []

    def run(self, request: ImageToTextRequest) -> ImageTextResult:
        self.check_type(request, ImageToTextRequest)
        self.check_model(request)
        prompt = (request.prompt or "").strip()
        if len(prompt) > MAX_PROMPT_CHARS:
            raise TooLarge(self._where(f"the prompt is {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS}"),
                           pipeline=self.pipeline.value, model_id=self.model_id)
        from core.ai.media import decode_image

        image = decode_image(request.image, pipeline=self.pipeline.value)
        if self._model is None:
            raise self.unavailable("the model is not loaded")
        import torch

        model, processor = self._model, self._processor
        try:
            inputs = processor(images=image, text=prompt or None, return_tensors="pt").to(self.device)
            if "pixel_values" in inputs:
                inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
            with self._lock, torch.inference_mode():
                out = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
        except (RuntimeError, ValueError, TypeError, IndexError) as exc:
            raise self.failed(f"captioning failed: {exc}") from None
        tokens = out[0]
        if self._decoder_only and "input_ids" in inputs:
            tokens = tokens[inputs["input_ids"].shape[1]:]
        return ImageTextResult(text=processor.decode(tokens, skip_special_tokens=True).strip())


class Sam2Runner(DirectoryRunner):
    def __init__(self, model_id: str, directory: Path) -> None:
        super().__init__(Pipeline.SEGMENT_ANYTHING_2, model_id, directory,
                         f"{model_id} (transformers Sam2Model, user-supplied weights)")
        self._model = None
        self._size = 1024
        self._mean, self._std = IMAGENET_MEAN, IMAGENET_STD

    def available(self) -> str | None:
        config = _config(self.directory)
        if isinstance(config, str):
            if any(self.directory.glob("*.pt")):
                return (f"{self.directory} holds an original SAM 2 checkpoint (.pt) without config.json; lpc loads "
                        "transformers' Sam2Model format (a directory with config.json and model.safetensors, as "
                        "Sam2Model.save_pretrained writes)")
            return config
        if config.get("model_type") != "sam2":
            return (f"{self.directory} holds a {config.get('model_type') or 'untyped'} model; segment-anything-2 needs "
                    "a transformers Sam2Model directory (config.json model_type \"sam2\")")
        return None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self, device: str) -> None:
        self.require_available()
        try:
            from transformers import Sam2Model
        except ImportError:
            raise self.unavailable("transformers with Sam2Model (5.x) is not installed") from None
        self.prepare_torch(device)
        try:
            model = Sam2Model.from_pretrained(self.directory, local_files_only=True,
                                              dtype=self.torch_dtype(device)).to(device).eval()
        except Exception as exc:  # noqa: BLE001 - any load failure (safetensors, missing class …) is "unavailable: why"
            raise self.unavailable(f"transformers could not load {self.directory}: {exc}") from None
        size = model.config.vision_config.backbone_config.image_size
        self._size = int(size[0] if isinstance(size, (list, tuple)) else size)
        pre = self.directory / "preprocessor_config.json"
        if pre.is_file():
            try:
                data = json.loads(pre.read_text(encoding="utf-8"))
                self._mean = tuple(data.get("image_mean") or IMAGENET_MEAN)
                self._std = tuple(data.get("image_std") or IMAGENET_STD)
            except (OSError, ValueError):
                pass
        self._model, self.device = model, device

    def unload(self) -> None:
        self._model = None
        self.release()

    def modules(self) -> list:
        return [self._model] if self._model is not None else []

    # prompts --------------------------------------------------------------------------------------
    def _json(self, name: str, text: str | None):
        if text is None or not text.strip():
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise self.bad_request(f"{name} is not valid JSON ({exc}): {text[:80]!r}") from None

    def _numbers(self, name: str, value, shape_words: str) -> None:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or value != value or value in (float("inf"), float("-inf")):
            raise self.bad_request(f"{name} must be {shape_words} of numbers, found {value!r}")

    def prompts(self, request: SegmentAnything2Request, width: int, height: int):
        """(points [[x, y]…] | None, labels [int…] | None, box [x1, y1, x2, y2] | None, mask [[…]] | None) in the
        model's input pixels. BadRequest naming the field for JSON that does not parse or has the wrong shape."""
        coords = self._json("point_coords", request.point_coords)
        labels = self._json("point_labels", request.point_labels)
        box = self._json("box", request.box)
        mask = self._json("mask_input", request.mask_input)
        if (coords is None) != (labels is None):
            raise self.bad_request("point_coords and point_labels go together: send both or neither")
        sx, sy = (self._size / width, self._size / height) if request.normalize_coords else (self._size, self._size)
        points = None
        if coords is not None:
            words = "a list of [x, y] pairs"
            if not isinstance(coords, list) or not coords or len(coords) > MAX_POINTS:
                raise self.bad_request(f"point_coords must be {words} (1 to {MAX_POINTS}), got {request.point_coords[:80]!r}")
            for pair in coords:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise self.bad_request(f"point_coords must be {words}, found {pair!r}")
                for v in pair:
                    self._numbers("point_coords", v, words)
            if not isinstance(labels, list) or len(labels) != len(coords):
                raise self.bad_request(f"point_labels must be a list with one label per point ({len(coords)}), got "
                                       f"{request.point_labels[:80]!r}")
            for lab in labels:
                if lab not in (0, 1) or isinstance(lab, bool):
                    raise self.bad_request(f"point_labels must be 1 (foreground) or 0 (background), found {lab!r}")
            points = [[float(x) * sx, float(y) * sy] for x, y in coords]
            labels = [int(lab) for lab in labels]
        if box is not None:
            if isinstance(box, list) and len(box) == 1 and isinstance(box[0], list):
                box = box[0]
            if not isinstance(box, list) or len(box) != 4:
                raise self.bad_request(f"box must be [x1, y1, x2, y2], got {request.box[:80]!r}")
            for v in box:
                self._numbers("box", v, "[x1, y1, x2, y2]")
            x1, y1, x2, y2 = (float(v) for v in box)
            if x2 < x1 or y2 < y1:
                raise self.bad_request(f"box must be [x1, y1, x2, y2] with x2 >= x1 and y2 >= y1, got {box}")
            box = [x1 * sx, y1 * sy, x2 * sx, y2 * sy]
        if mask is not None:
            if isinstance(mask, list) and len(mask) == 1 and isinstance(mask[0], list) and mask[0] \
                    and isinstance(mask[0][0], list):
                mask = mask[0]
            words = "a 2-D list (rows of equal length; SAM 2's 256x256 low-resolution logits)"
            if not isinstance(mask, list) or not mask or not all(isinstance(r, list) and r for r in mask):
                raise self.bad_request(f"mask_input must be {words}")
            if len({len(r) for r in mask}) != 1 or len(mask) > 1024 or len(mask[0]) > 1024:
                raise self.bad_request(f"mask_input must be {words}, at most 1024x1024")
            for row in mask:
                for v in row:
                    self._numbers("mask_input", v, words)
        return points, labels, box, mask

    # inference ------------------------------------------------------------------------------------
    def run(self, request: SegmentAnything2Request) -> MasksResult:
        self.check_type(request, SegmentAnything2Request)
        self.check_model(request)
        from core.ai.media import decode_image, image_size

        width, height = image_size(request.image, pipeline=self.pipeline.value)
        if width * height > MAX_SAM_PIXELS:
            raise TooLarge(self._where(f"{request.image.filename or 'the image'} is {width}x{height}; "
                                       f"segment-anything-2 takes at most {MAX_SAM_PIXELS} pixels (e.g. 1024x1024), "
                                       "since its masks are returned as text at full size"),
                           pipeline=self.pipeline.value, model_id=self.model_id)
        points, labels, box, mask = self.prompts(request, width, height)
        image = decode_image(request.image, pipeline=self.pipeline.value)
        if self._model is None:
            raise self.unavailable("the model is not loaded")
        import numpy as np
        import torch
        import torch.nn.functional as F

        model, dev = self._model, self.device
        dtype = model.dtype
        pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
        pixels = F.interpolate(pixels, size=(self._size, self._size), mode="bilinear", align_corners=False,
                               antialias=True)
        mean = torch.tensor(self._mean, dtype=torch.float32).view(1, 3, 1, 1)
        std = torch.tensor(self._std, dtype=torch.float32).view(1, 3, 1, 1)
        kwargs = {"pixel_values": ((pixels - mean) / std).to(dev, dtype), "multimask_output": request.multimask_output}
        if points is not None:
            kwargs["input_points"] = torch.tensor([[points]], dtype=dtype, device=dev)
            kwargs["input_labels"] = torch.tensor([[labels]], dtype=torch.int64, device=dev)
        if box is not None:
            kwargs["input_boxes"] = torch.tensor([[box]], dtype=dtype, device=dev)
        if mask is not None:
            kwargs["input_masks"] = torch.tensor([[mask]], dtype=dtype, device=dev)
        try:
            with self._lock, torch.inference_mode():
                out = model(**kwargs)
        except (RuntimeError, ValueError, TypeError, IndexError) as exc:
            raise self.failed(f"segmentation failed: {exc}") from None
        low = out.pred_masks[0, 0].float().cpu()  # (masks, h, w) logits
        scores = out.iou_scores[0, 0].float().cpu()  # (masks,)
        order = torch.argsort(scores, descending=True)
        low, scores = low[order], scores[order]
        full = F.interpolate(low[None], size=(height, width), mode="bilinear", align_corners=False)[0]
        masks = full if request.return_logits else (full > 0.0).float()
        return MasksResult(masks=str(masks.tolist()), scores=str(scores.tolist()), logits=str(low.tolist()))
