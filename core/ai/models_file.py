"""aiModels.json (go-livepeer's `-aiModels`): which models this orchestrator serves, how warm, how many at
once and at what price.

    specs = load_ai_models("/etc/lpc/aiModels.json", default_price=Fraction(0), default_pixels=1, offchain=True)
    specs = load_ai_models("llm:HuggingFaceTB/SmolLM2-135M-Instruct:true,upscale:realesrgan/realesr-animevideov3-x4:false", …)
    specs = load_ai_models(None, …)        # the bundled offline models (core.ai.bundled.default_specs)

The value is a path when a file by that name exists or it ends in ".json" (then it must exist), else
go-livepeer's inline form `pipeline:model_id:warm[,…]`. The file is a JSON array of objects:

    [{"pipeline": "audio-to-text", "model_id": "openai/whisper-tiny.en", "warm": true, "capacity": 2,
      "price_per_unit": 12882811, "pixels_per_unit": 1, "currency": "", "gateway": "default"},
     {"pipeline": "llm", "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct", "price_per_unit": 0.5e-3,
      "currency": "USD", "url": "http://127.0.0.1:8000", "token": "…"}]

go-livepeer's rules, with an error where go panics or silently skips (ai-gateway-wire.md §5):
- `pipeline` must be one lpc serves (go panics on an unknown one; we list the known ones).
- One model cannot be both warm and cold; the same model twice for the same `gateway` is a mistake (the
  same model for different gateways carries per-gateway prices and is kept).
- `price_per_unit` / `pixels_per_unit` are bare JSON numbers, parsed exactly (go's `big.Rat.SetString` on
  the raw token): a string such as "0.5USD" is refused with how to write it. Absent: the node's
  `-pricePerUnit` / `-pixelsPerUnit`. On chain the price must end up above 0 (go panics). Offchain
  prices are ignored (go sets none), so the specs carry None.
- `capacity` >= 1; `optimization_flags` only with `warm: true`; any other key is refused with the closest
  known one ("capcity" -> did you mean "capacity"?).
"""

from __future__ import annotations

import difflib
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from core.ai.ports import ModelSpec, Pipeline

KNOWN_KEYS = ("pipeline", "model_id", "warm", "capacity", "price_per_unit", "pixels_per_unit", "currency", "url",
              "token", "gateway", "optimization_flags")
_BOOL_WORDS = {"1": True, "t": True, "true": True, "0": False, "f": False, "false": False}  # strconv.ParseBool


class AIModelsError(ValueError):
    """aiModels.json (or the inline -aiModels value) is wrong. `file` is the path ("" inline), `index` the
    entry (0-based, None for the whole value), `field` the key at fault ("" when none)."""

    def __init__(self, message: str, *, file: str = "", index: int | None = None, field: str = "") -> None:
        where = file or "-aiModels"
        if index is not None:
            where += f" entry {index}"
        if field:
            where += f" '{field}'"
        super().__init__(f"{where}: {message}")
        self.file, self.index, self.field = file, index, field


def _pipeline(name: Any, *, file: str, index: int) -> Pipeline:
    if not isinstance(name, str):
        raise AIModelsError(f"must be a pipeline name, got {name!r}", file=file, index=index, field="pipeline")
    try:
        return Pipeline(name)
    except ValueError:
        known = ", ".join(p.value for p in Pipeline)
        raise AIModelsError(f"unknown pipeline {name!r}; lpc serves {known}", file=file, index=index,
                            field="pipeline") from None


def _number(value: Any, *, file: str, index: int, field: str) -> Fraction:
    if isinstance(value, str):
        raise AIModelsError(f"must be a bare JSON number (write 0.5, not \"0.5\" or \"0.5USD\"); put the currency "
                            f"in \"currency\", got {value!r}", file=file, index=index, field=field)
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        raise AIModelsError(f"must be a JSON number, got {value!r}", file=file, index=index, field=field)
    value = Fraction(value)
    if value < 0:
        raise AIModelsError(f"cannot be negative, got {value}", file=file, index=index, field=field)
    return value


def _entry(raw: Any, *, file: str, index: int, default_price: Fraction, default_pixels: int,
           offchain: bool) -> ModelSpec:
    if not isinstance(raw, dict):
        raise AIModelsError(f"each entry must be a JSON object, got {raw!r}", file=file, index=index)
    for key in raw:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(KNOWN_KEYS)}"
            raise AIModelsError(f"unknown key{hint}", file=file, index=index, field=key)
    if "pipeline" not in raw:
        raise AIModelsError("is missing", file=file, index=index, field="pipeline")
    pipeline = _pipeline(raw["pipeline"], file=file, index=index)
    model_id = raw.get("model_id")
    if not isinstance(model_id, str) or not model_id.strip():
        raise AIModelsError(f"must be a model id such as \"openai/whisper-tiny.en\", got {model_id!r}",
                            file=file, index=index, field="model_id")
    warm = raw.get("warm", False)
    if not isinstance(warm, bool):
        raise AIModelsError(f"must be true or false, got {warm!r}", file=file, index=index, field="warm")
    capacity = raw.get("capacity", 1)
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise AIModelsError(f"must be a whole number of at least 1, got {capacity!r}", file=file, index=index,
                            field="capacity")
    texts = {}
    for key in ("currency", "url", "token", "gateway"):
        v = raw.get(key, "")
        if not isinstance(v, str):
            raise AIModelsError(f"must be a string, got {type(v).__name__}", file=file, index=index, field=key)
        texts[key] = v.strip()
    url = texts["url"]
    if url and not url.startswith(("http://", "https://")):
        raise AIModelsError(f"must be an http:// or https:// address of an ai-runner, got {url!r}", file=file,
                            index=index, field="url")
    flags_raw = raw.get("optimization_flags")
    flags: tuple[tuple[str, str], ...] = ()
    if flags_raw is not None:
        if not isinstance(flags_raw, dict):
            raise AIModelsError("must be an object of NAME: value (e.g. {\"SFAST\": true})", file=file, index=index,
                                field="optimization_flags")
        if not warm:
            raise AIModelsError("only apply to a warm model: set \"warm\": true or remove them", file=file,
                                index=index, field="optimization_flags")
        flags = tuple(sorted((str(k), json.dumps(v) if not isinstance(v, str) else v) for k, v in flags_raw.items()))
    price = pixels = None
    if "price_per_unit" in raw:
        price = _number(raw["price_per_unit"], file=file, index=index, field="price_per_unit")
    if "pixels_per_unit" in raw:
        p = _number(raw["pixels_per_unit"], file=file, index=index, field="pixels_per_unit")
        if p.denominator != 1 or p < 1:
            raise AIModelsError(f"must be a whole number of at least 1, got {p}", file=file, index=index,
                                field="pixels_per_unit")
        pixels = int(p)
    if texts["currency"] and price is None:
        raise AIModelsError("is set but price_per_unit is not: give the price in that currency", file=file,
                            index=index, field="currency")
    if offchain:
        price, pixels, currency = None, None, ""  # go sets no AI prices offchain
    else:
        price = default_price if price is None else price
        pixels = default_pixels if pixels is None else pixels
        currency = texts["currency"]
        if price <= 0:
            raise AIModelsError(f"{pipeline.value} {model_id}: the price is 0; on chain every model needs a price: "
                                f"set \"price_per_unit\" here or -pricePerUnit for the node", file=file, index=index,
                                field="price_per_unit")
    return ModelSpec(pipeline=pipeline, model_id=model_id.strip(), warm=warm, capacity=capacity, price_per_unit=price,
                     pixels_per_unit=pixels, currency=currency, url=url, token=texts["token"],
                     gateway=texts["gateway"] or "default", optimization_flags=flags)


def _inline(value: str) -> list[dict[str, Any]]:
    """`pipeline:model_id:warm[,…]` as the entries a file would hold (go skips malformed parts; we refuse)."""
    entries = []
    for i, part in enumerate(p.strip() for p in value.split(",")):
        bits = part.split(":")
        if len(bits) < 3 or not bits[0] or not bits[-1]:
            raise AIModelsError(f"{part!r} is not pipeline:model_id:warm (e.g. llm:HuggingFaceTB/SmolLM2-135M-"
                                f"Instruct:true), and no file {value!r} exists", index=i)
        warm = _BOOL_WORDS.get(bits[-1].strip().lower())
        if warm is None:
            raise AIModelsError(f"warm must be true or false, got {bits[-1]!r}", index=i, field="warm")
        entries.append({"pipeline": bits[0].strip(), "model_id": ":".join(bits[1:-1]).strip(), "warm": warm})
    return entries


def _read_file(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AIModelsError("no such file: give the path of aiModels.json, or the inline form "
                            "pipeline:model_id:warm", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AIModelsError(f"cannot be read: {exc}", file=str(path)) from None
    try:
        data = json.loads(text, parse_float=Fraction, parse_int=int)
    except json.JSONDecodeError as exc:
        raise AIModelsError(f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                            file=str(path)) from None
    if not isinstance(data, list):
        raise AIModelsError("must be a JSON array of model objects ([{\"pipeline\": …, \"model_id\": …}, …])",
                            file=str(path))
    return data


def _check_conflicts(specs: list[ModelSpec], *, file: str) -> None:
    warmth: dict[tuple[Pipeline, str], tuple[bool, int]] = {}
    seen: dict[tuple[Pipeline, str, str], int] = {}
    for i, s in enumerate(specs):
        key = (s.pipeline, s.model_id)
        if key in warmth and warmth[key][0] != s.warm:
            raise AIModelsError(f"{s.pipeline.value} {s.model_id} is warm in one entry and cold in another "
                                f"(entry {warmth[key][1]}); a model is either kept loaded or not", file=file,
                                index=i, field="warm")
        warmth.setdefault(key, (s.warm, i))
        gkey = (s.pipeline, s.model_id, s.gateway.lower())
        if gkey in seen:
            raise AIModelsError(f"{s.pipeline.value} {s.model_id} for gateway {s.gateway!r} is already entry "
                                f"{seen[gkey]}", file=file, index=i, field="model_id")
        seen[gkey] = i


def load_ai_models(value: str | None, *, default_price: Fraction, default_pixels: int,
                   offchain: bool) -> tuple[ModelSpec, ...]:
    """The ModelSpecs of `-aiModels` (a path or the inline form), or the bundled defaults when None.
    AIModelsError names the file, entry and field of the first problem."""
    default_price = Fraction(default_price)
    if value is None:
        from core.ai.bundled import default_specs

        entries = [{"pipeline": s.pipeline.value, "model_id": s.model_id, "warm": s.warm, "capacity": s.capacity}
                   for s in default_specs()]
        file = "the bundled models"
    else:
        text = value.strip()
        if not text:
            raise AIModelsError("is empty: give the path of aiModels.json or pipeline:model_id:warm[,…]")
        path = Path(text).expanduser()
        if path.is_file() or text.endswith(".json") or text.startswith(("[", "{")):
            if text.startswith(("[", "{")):
                raise AIModelsError("takes a path to aiModels.json, not JSON text")
            entries, file = _read_file(path), str(path)
        else:
            entries, file = _inline(text), ""
    specs = [_entry(raw, file=file, index=i, default_price=default_price, default_pixels=default_pixels,
                    offchain=offchain) for i, raw in enumerate(entries)]
    _check_conflicts(specs, file=file)
    return tuple(specs)
