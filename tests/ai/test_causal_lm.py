"""llm with the bundled SmolLM2-135M-Instruct: real answers, real token counts, streaming that stops.

The first session on a machine de-quantises the GGUF (~24 s on two quiet cores) into the test model cache
(tests/ai/conftest.py); later sessions load the saved copy in about a second."""

from __future__ import annotations

import threading

import pytest

from core.ai.ports import BadRequest, ChatMessage, LLMRequest, TooLarge
from core.ai.runners import causal_lm
from core.ai.runners.causal_lm import (SMOLLM2_ID, CausalLMRunner, converted_smollm2, pretrained_dir_problem,
                                       smollm2_cache_dir, smollm2_runner)

FRANCE = (ChatMessage("user", "What is the capital of France?"),)


@pytest.fixture(scope="module")
def llm():
    runner = smollm2_runner()
    assert runner.available() is None
    runner.load("cpu")
    yield runner
    runner.unload()


def ask(**kw) -> LLMRequest:
    kw.setdefault("messages", FRANCE)
    kw.setdefault("temperature", 0.0)
    kw.setdefault("max_tokens", 24)
    return LLMRequest(**kw)


@pytest.fixture(scope="module")
def france(llm):
    return llm.run(ask())


def test_the_capital_of_france_is_paris(llm, france):
    assert "Paris" in france.text
    assert france.finish_reason == "stop"
    assert france.id.startswith("chatcmpl-") and len(france.id) > len("chatcmpl-") + 16
    assert france.model == SMOLLM2_ID and france.created > 1_700_000_000
    # usage counts the real tokens: the chat-templated prompt, and what was generated
    prompt = llm._tokenizer.apply_chat_template([{"role": "user", "content": FRANCE[0].content}],
                                                add_generation_prompt=True)
    prompt_ids = prompt["input_ids"] if hasattr(prompt, "keys") else prompt
    assert france.usage.prompt_tokens == len(prompt_ids)
    answer_tokens = len(llm._tokenizer(france.text, add_special_tokens=False)["input_ids"])
    assert answer_tokens <= france.usage.completion_tokens <= answer_tokens + 2  # + the end-of-turn token
    assert france.usage.total_tokens == france.usage.prompt_tokens + france.usage.completion_tokens


def test_greedy_answers_repeat(llm, france):
    assert llm.run(ask()).text == france.text


def test_streaming_yields_the_same_text_piece_by_piece(llm, france):
    chunks = list(llm.stream(ask()))
    assert len(chunks) > 2
    *pieces, last = chunks
    assert all(c.finish_reason == "" and c.text for c in pieces)
    assert (last.text, last.finish_reason) == ("", "stop")
    assert "".join(c.text for c in pieces) == france.text
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")
    assert last.usage == france.usage
    counts = [c.usage.completion_tokens for c in chunks]
    assert counts == sorted(counts) and all(c.usage.prompt_tokens == france.usage.prompt_tokens for c in chunks)


def test_a_conversation_goes_through_the_chat_template(llm, france):
    turns = (ChatMessage("system", "You are a geography teacher."), *FRANCE,
             ChatMessage("assistant", france.text), ChatMessage("user", "And of Italy?"))
    result = llm.run(ask(messages=turns, max_tokens=16))
    assert result.usage.prompt_tokens > france.usage.prompt_tokens + 10
    assert "Rome" in result.text


def test_max_tokens_ends_the_answer_with_length(llm):
    result = llm.run(ask(messages=(ChatMessage("user", "Write a long poem about the sea."),), max_tokens=5))
    assert result.finish_reason == "length"
    assert result.usage.completion_tokens == 5
    assert result.text.strip()
    last = list(llm.stream(ask(messages=(ChatMessage("user", "Write a long poem about the sea."),), max_tokens=5)))[-1]
    assert (last.finish_reason, last.usage.completion_tokens) == ("length", 5)


def test_closing_the_stream_stops_the_generation(llm, monkeypatch):
    made = []
    generate = llm._model.generate

    def recording_generate(*args, **kw):
        output = generate(*args, **kw)
        made.append(int(output.shape[1] - kw["input_ids"].shape[1]))
        return output

    monkeypatch.setattr(llm._model, "generate", recording_generate)
    stream = llm.stream(ask(messages=(ChatMessage("user", "Count from 1 to 300, one number per line."),),
                            max_tokens=400))
    first = next(stream)
    assert first.text and first.finish_reason == ""
    stream.close()
    assert made and made[0] < 100, made  # far fewer than the 400 it was allowed
    assert not [t for t in threading.enumerate() if t.name.startswith("llm-")]


def test_a_prompt_over_the_context_is_too_large(llm):
    huge = (ChatMessage("user", "lorem ipsum dolor sit amet " * 2000),)
    with pytest.raises(TooLarge, match=r"the prompt is [0-9,]+ tokens; the model's context is 8,192 tokens") as err:
        llm.run(ask(messages=huge))
    assert err.value.status == 413
    with pytest.raises(TooLarge):
        llm.stream(ask(messages=huge))  # refused before the first chunk, not in the middle of the stream


def test_a_mebibyte_prompt_is_refused_without_tokenizing_it(llm):
    mebibyte = (ChatMessage("user", "lorem ipsum " * 90_000),)
    with pytest.raises(TooLarge, match=r"1,080,000 characters, more than 8,192 tokens of at most \d+ characters"):
        llm.run(ask(messages=mebibyte))


@pytest.mark.parametrize("messages, message", [
    ((ChatMessage("tool", "42"),), r"messages\[0\]\.role is 'tool'; it must be system, user or assistant"),
    ((), "messages must hold at least one message"),
])
def test_bad_messages_are_refused(llm, messages, message):
    with pytest.raises(BadRequest, match=message):
        llm.run(ask(messages=messages))


@pytest.mark.parametrize("field, value, message", [
    ("max_tokens", 0, "max_tokens must be at least 1"),
    ("temperature", -1.0, "temperature must be 0 or more"),
    ("top_k", 0, "top_k must be -1"),
    ("model", "meta-llama/Meta-Llama-3.1-8B-Instruct", "configured with HuggingFaceTB/SmolLM2-135M-Instruct but called"),
])
def test_bad_parameters_are_refused(llm, field, value, message):
    with pytest.raises(BadRequest, match=message):
        llm.run(ask(**{field: value}))


def test_sampling_with_top_k_off_answers(llm):
    result = llm.run(ask(temperature=0.7, top_k=-1, top_p=0.9, max_tokens=12))
    assert result.text.strip() and result.usage.completion_tokens <= 12


def test_the_cache_is_a_plain_save_pretrained_directory_others_can_load(llm):
    directory = converted_smollm2()
    assert directory == smollm2_cache_dir()
    assert pretrained_dir_problem(directory) is None
    user = CausalLMRunner("my-org/my-smollm", lambda: directory, description="user weights", bundled=False)
    assert user.available() is None
    assert user.memory_bytes() == (directory / "model.safetensors").stat().st_size > 500_000_000  # fp32


def test_a_directory_without_weights_says_what_is_missing(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    runner = CausalLMRunner("my-org/empty", lambda: tmp_path, description="user weights", bundled=False)
    problem = runner.available()
    assert str(tmp_path) in problem and "model.safetensors" in problem and "tokenizer.json" in problem


def test_a_conversion_that_fails_leaves_no_cache(tmp_path, monkeypatch):
    import transformers

    def fail(*args, **kw):
        raise OSError("disk full (simulated)")

    monkeypatch.setenv("LPC_AI_CACHE", str(tmp_path))
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", fail)
    with pytest.raises(OSError, match="disk full"):
        converted_smollm2()
    assert [p for p in tmp_path.iterdir() if p.suffix != ".lock"] == []  # only the build lock
    with pytest.raises(Exception, match="could not load the model: disk full"):
        smollm2_runner().load("cpu")


def test_a_gguf_with_another_digest_is_not_converted(tmp_path, monkeypatch):
    monkeypatch.setenv("LPC_AI_CACHE", str(tmp_path))
    monkeypatch.setattr(causal_lm, "SMOLLM2_GGUF_SHA256", "f" * 64)
    with pytest.raises(ValueError, match="not the pinned ffffffffffffffff"):
        converted_smollm2()
    assert [p for p in tmp_path.iterdir() if p.suffix != ".lock"] == []  # only the build lock
