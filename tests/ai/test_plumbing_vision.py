"""PLUMBING tests of the transformers loaders (core/ai/runners/vision.py through core/ai/user_weights.py): a
tiny RANDOM-WEIGHT BLIP captioner and a tiny random-weight Sam2Model are built here
(tests/ai/plumbing_models.py), saved into a temp -aiModelsDir with a SHA256SUMS manifest, loaded by the
production runners and run. Their captions and masks are noise: the tests prove types, shapes, ordering,
determinism and the error paths, not quality."""

from __future__ import annotations

import ast

import pytest

from core.ai.ports import (
    BadRequest,
    ImageTextResult,
    ImageToTextRequest,
    MasksResult,
    ModelSpec,
    ModelUnavailable,
    Pipeline,
    SegmentAnything2Request,
    TooLarge,
    UnsupportedMedia,
    Upload,
)
from core.ai.user_weights import DigestCache, user_runner
from tests.ai.plumbing_models import SAM2_SIZE, flip_byte, png_bytes, save_tiny_blip, save_tiny_sam2, write_manifest

BLIP, SAM = "tiny/blip", "tiny/sam2"


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("aiModelsDir")
    save_tiny_blip(root / BLIP)
    save_tiny_sam2(root / SAM)
    return root


@pytest.fixture(scope="module")
def digests(tmp_path_factory):
    return DigestCache(tmp_path_factory.mktemp("cache") / "digests.json")


def loaded(models_dir, digests, pipeline, model_id):
    runner = user_runner(ModelSpec(pipeline, model_id), models_dir, cache=digests)
    assert runner.available() is None
    runner.load("cpu")
    assert runner.loaded and runner.memory_bytes() > 0
    return runner


@pytest.fixture(scope="module")
def captioner(models_dir, digests):
    return loaded(models_dir, digests, Pipeline.IMAGE_TO_TEXT, BLIP)


@pytest.fixture(scope="module")
def sam(models_dir, digests):
    return loaded(models_dir, digests, Pipeline.SEGMENT_ANYTHING_2, SAM)


def image(w=48, h=40, seed=1) -> Upload:
    return Upload("in.png", "image/png", png_bytes(w, h, seed))


# ------------------------------------------------------------------------------------------ image-to-text
def test_caption_is_text_and_deterministic(captioner):
    first = captioner.run(ImageToTextRequest(image=image()))
    assert isinstance(first, ImageTextResult) and isinstance(first.text, str)
    assert captioner.run(ImageToTextRequest(image=image())) == first


def test_a_prompt_is_conditional_text_the_caption_continues(captioner):
    result = captioner.run(ImageToTextRequest(image=image(), prompt="a photo of"))
    assert result.text.startswith("a photo of")


def test_image_to_text_bad_input(captioner):
    with pytest.raises(UnsupportedMedia, match="not an image"):
        captioner.run(ImageToTextRequest(image=Upload("x.png", "image/png", b"\x89PNG broken")))
    with pytest.raises(TooLarge, match="1000"):
        captioner.run(ImageToTextRequest(image=image(), prompt="a " * 600))
    with pytest.raises(BadRequest, match="configured with tiny/blip but called with other"):
        captioner.run(ImageToTextRequest(image=image(), model_id="other"))


# ------------------------------------------------------------------------------------------ segment-anything-2
def parse(result: MasksResult):
    assert isinstance(result, MasksResult)
    return ast.literal_eval(result.masks), ast.literal_eval(result.scores), ast.literal_eval(result.logits)


def shape(nested) -> tuple[int, ...]:
    dims = []
    while isinstance(nested, list):
        dims.append(len(nested))
        nested = nested[0]
    return tuple(dims)


def test_a_point_prompt_gives_three_masks_at_the_image_size_sorted_by_score(sam):
    result = sam.run(SegmentAnything2Request(image=image(48, 40), point_coords="[[20, 10]]", point_labels="[1]"))
    masks, scores, logits = parse(result)
    assert shape(masks) == (3, 40, 48)  # full size: height x width of the upload
    assert shape(logits) == (3, SAM2_SIZE // 4, SAM2_SIZE // 4)  # the low-resolution logits
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    assert sam.run(SegmentAnything2Request(image=image(48, 40), point_coords="[[20, 10]]",
                                           point_labels="[1]")) == result  # deterministic


def test_single_mask_binary_output_and_box_prompt(sam):
    result = sam.run(SegmentAnything2Request(image=image(48, 40), box="[4, 4, 30, 36]", multimask_output=False,
                                             return_logits=False))
    masks, scores, _ = parse(result)
    assert shape(masks) == (1, 40, 48) and len(scores) == 1
    assert {v for row in masks[0] for v in row} <= {0.0, 1.0}


def test_points_and_a_box_together(sam):
    masks, scores, _ = parse(sam.run(SegmentAnything2Request(image=image(48, 40), point_coords="[[20, 10], [5, 5]]",
                                                             point_labels="[1, 0]", box="[[2, 2, 40, 30]]")))
    assert shape(masks) == (3, 40, 48) and len(scores) == 3


def test_the_prompt_reaches_the_model(sam):
    a = sam.run(SegmentAnything2Request(image=image(48, 40), point_coords="[[5, 5]]", point_labels="[1]"))
    b = sam.run(SegmentAnything2Request(image=image(48, 40), point_coords="[[40, 35]]", point_labels="[1]"))
    assert a.logits != b.logits


@pytest.mark.parametrize("fields, words", [
    (dict(point_coords="[[1, 2]", point_labels="[1]"), "point_coords is not valid JSON"),
    (dict(point_coords="[[1, 2, 3]]", point_labels="[1]"), r"point_coords must be a list of \[x, y\] pairs"),
    (dict(point_coords="[[1, 2]]"), "point_coords and point_labels go together"),
    (dict(point_coords="[[1, 2], [3, 4]]", point_labels="[1]"), "one label per point"),
    (dict(point_coords="[[1, 2]]", point_labels="[7]"), "point_labels must be 1"),
    (dict(point_coords='[["a", 2]]', point_labels="[1]"), "of numbers"),
    (dict(box="[1, 2, 3]"), r"box must be \[x1, y1, x2, y2\]"),
    (dict(box="[30, 30, 10, 10]"), "x2 >= x1"),
    (dict(mask_input="[[1, 2], [3]]"), "mask_input must be a 2-D list"),
    (dict(mask_input="{"), "mask_input is not valid JSON"),
    (dict(model_id="facebook/sam2-hiera-large"), "configured with tiny/sam2"),
])
def test_segment_anything_2_bad_prompts_are_bad_requests(sam, fields, words):
    with pytest.raises(BadRequest, match=words) as err:
        sam.run(SegmentAnything2Request(image=image(), **fields))
    assert err.value.pipeline == "segment-anything-2"


def test_a_mask_input_prompt_is_accepted(sam):
    low = [[0.5] * 32 for _ in range(32)]
    masks, _, _ = parse(sam.run(SegmentAnything2Request(image=image(48, 40), mask_input=str([low]))))
    assert shape(masks) == (3, 40, 48)


def test_an_image_too_big_for_text_masks_is_refused_before_decoding(sam):
    with pytest.raises(TooLarge, match="1048576 pixels"):
        sam.run(SegmentAnything2Request(image=image(1100, 1000), point_coords="[[1, 1]]", point_labels="[1]"))


# ------------------------------------------------------------------------------------------ weights
def test_a_blip_directory_is_not_a_sam2_model(models_dir, digests):
    reason = user_runner(ModelSpec(Pipeline.SEGMENT_ANYTHING_2, BLIP), models_dir, cache=digests).available()
    assert 'model_type "sam2"' in reason and "blip" in reason


def test_an_original_sam2_checkpoint_is_explained(tmp_path, digests):
    d = tmp_path / "facebook" / "sam2-hiera-large"
    d.mkdir(parents=True)
    (d / "sam2_hiera_large.pt").write_bytes(b"\0" * 64)
    write_manifest(d)
    reason = user_runner(ModelSpec(Pipeline.SEGMENT_ANYTHING_2, "facebook/sam2-hiera-large"), tmp_path,
                         cache=digests).available()
    assert "original SAM 2 checkpoint" in reason and "Sam2Model" in reason


def test_tampered_or_unlisted_weights_are_refused(tmp_path, digests):
    d = save_tiny_sam2(tmp_path / SAM)
    runner = user_runner(ModelSpec(Pipeline.SEGMENT_ANYTHING_2, SAM), tmp_path, cache=digests)
    assert runner.available() is None
    flip_byte(d / "model.safetensors")
    with pytest.raises(ModelUnavailable, match=r"model.safetensors does not match SHA256SUMS: expected sha256"):
        runner.load("cpu")
    d = save_tiny_blip(tmp_path / BLIP)
    (d / "pytorch_model.bin").write_bytes(b"\0" * 16)
    reason = user_runner(ModelSpec(Pipeline.IMAGE_TO_TEXT, BLIP), tmp_path, cache=digests).available()
    assert "pytorch_model.bin is a weight file not listed in SHA256SUMS" in reason


def test_no_weights_names_the_model(tmp_path, digests):
    reason = user_runner(ModelSpec(Pipeline.IMAGE_TO_TEXT, "Salesforce/blip-image-captioning-large"), tmp_path,
                         cache=digests).available()
    assert reason.startswith("no weights for Salesforce/blip-image-captioning-large at ")
    assert "image-to-text needs a transformers save_pretrained directory" in reason


# ------------------------------------------------------------------------------------------ through the worker
def test_the_worker_serves_verified_user_weights_and_refuses_missing_ones_by_name(models_dir):
    from core.ai.worker import AIWorker

    specs = [ModelSpec(Pipeline.IMAGE_TO_TEXT, BLIP), ModelSpec(Pipeline.SEGMENT_ANYTHING_2, "facebook/sam2-hiera-large")]
    # user_runner straight, not core.ai.catalog (which asks the bundled registry first): these ids are not bundled
    worker = AIWorker(specs, models_dir=models_dir, device="cpu", runner_for=user_runner)
    try:
        assert worker.resolve(Pipeline.IMAGE_TO_TEXT, "") == BLIP
        result = worker.run(Pipeline.IMAGE_TO_TEXT, ImageToTextRequest(image=image(), prompt="a photo of"))
        assert result.text.startswith("a photo of")
        assert [spec.model_id for spec, *_ in worker.advertised()] == [BLIP]  # the weightless one is not advertised
        views = {v.model_id: v for v in worker.models()}
        missing = views["facebook/sam2-hiera-large"]
        assert missing.state == "unavailable" and "no weights for facebook/sam2-hiera-large" in missing.reason
        assert views[BLIP].bundled is False
        with pytest.raises(ModelUnavailable, match="facebook/sam2-hiera-large"):
            worker.run(Pipeline.SEGMENT_ANYTHING_2, SegmentAnything2Request(image=image()))
    finally:
        worker.stop()
