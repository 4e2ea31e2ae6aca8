"""PLUMBING tests of the diffusers loaders (core/ai/runners/diffusion.py through core/ai/user_weights.py):
tiny RANDOM-WEIGHT Stable Diffusion, instruct-pix2pix and Stable Video Diffusion pipelines are built here
(tests/ai/plumbing_models.py), saved into a temp -aiModelsDir with a SHA256SUMS manifest, loaded by the
production runner and run once. Their pictures are noise: these tests prove sizes, formats, seeds,
determinism and the error paths, not image quality."""

from __future__ import annotations

import io

import pytest

from core.ai.ports import (
    BadRequest,
    ImagesResult,
    ImageToImageRequest,
    ImageToVideoRequest,
    ModelSpec,
    ModelUnavailable,
    Pipeline,
    TextToImageRequest,
    TooLarge,
    UnsupportedMedia,
    Upload,
    UpscaleRequest,
)
from core.ai.user_weights import DigestCache, user_runner
from tests.ai.plumbing_models import (
    flip_byte,
    png_bytes,
    save_tiny_instruct_pix2pix,
    save_tiny_sd_x4_upscaler,
    save_tiny_stable_diffusion,
    save_tiny_stable_video_diffusion,
)

SD, P2P, SVD, CHECKED, X4 = "tiny/sd", "tiny/pix2pix", "tiny/svd", "tiny/sd-checked", "tiny/x4-upscaler"


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("aiModelsDir")
    save_tiny_stable_diffusion(root / SD)
    save_tiny_instruct_pix2pix(root / P2P)
    save_tiny_stable_video_diffusion(root / SVD)
    save_tiny_stable_diffusion(root / CHECKED, safety_checker=True)
    save_tiny_sd_x4_upscaler(root / X4)
    return root


@pytest.fixture(scope="module")
def digests(tmp_path_factory):
    return DigestCache(tmp_path_factory.mktemp("cache") / "digests.json")


def loaded(models_dir, digests, pipeline, model_id):
    runner = user_runner(ModelSpec(pipeline, model_id), models_dir, cache=digests)
    assert runner.available() is None
    runner.load("cpu")
    assert runner.loaded and runner.device == "cpu"
    return runner


@pytest.fixture(scope="module")
def t2i(models_dir, digests):
    return loaded(models_dir, digests, Pipeline.TEXT_TO_IMAGE, SD)


@pytest.fixture(scope="module")
def i2i(models_dir, digests):
    return loaded(models_dir, digests, Pipeline.IMAGE_TO_IMAGE, SD)


@pytest.fixture(scope="module")
def pix2pix(models_dir, digests):
    return loaded(models_dir, digests, Pipeline.IMAGE_TO_IMAGE, P2P)


@pytest.fixture(scope="module")
def i2v(models_dir, digests):
    return loaded(models_dir, digests, Pipeline.IMAGE_TO_VIDEO, SVD)


def pngs(result: ImagesResult):
    from PIL import Image

    out = []
    for m in result.images:
        assert m.content_type == "image/png" and m.extension == ".png"
        img = Image.open(io.BytesIO(m.data))
        assert img.format == "PNG"
        out.append(img)
    return out


def near(a, b) -> bool:
    """Same picture up to float rounding: a batch of 2 and a batch of 1 run different kernels, so the same
    seed gives pixels within a few levels, while another seed gives a different picture altogether."""
    import numpy as np

    return int(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).max()) <= 4


def image(w=40, h=32, seed=1) -> Upload:
    return Upload("in.png", "image/png", png_bytes(w, h, seed))


# ------------------------------------------------------------------------------------------ text-to-image
def test_text_to_image_makes_pngs_of_the_asked_size_with_seed_plus_i(t2i):
    result = t2i.run(TextToImageRequest(prompt="a red cat", width=48, height=32, num_inference_steps=1,
                                        num_images_per_prompt=2, seed=41, guidance_scale=7.5))
    images = pngs(result)
    assert [im.size for im in images] == [(48, 32), (48, 32)]
    assert [m.seed for m in result.images] == [41, 42]
    assert [m.nsfw for m in result.images] == [False, False]  # no safety checker in the directory
    assert result.images[0].data != result.images[1].data  # different seeds, different noise
    assert t2i.memory_bytes() > 0


def test_text_to_image_is_deterministic_per_image_seed(t2i):
    two = t2i.run(TextToImageRequest(prompt="a cat", width=32, height=32, num_inference_steps=1,
                                     num_images_per_prompt=2, seed=7))
    again = t2i.run(TextToImageRequest(prompt="a cat", width=32, height=32, num_inference_steps=1, seed=7))
    second_alone = t2i.run(TextToImageRequest(prompt="a cat", width=32, height=32, num_inference_steps=1, seed=8))
    assert near(pngs(again)[0], pngs(two)[0])
    assert near(pngs(second_alone)[0], pngs(two)[1])  # image i is seed + i
    assert not near(pngs(two)[0], pngs(two)[1])
    assert t2i.run(TextToImageRequest(prompt="a cat", width=32, height=32, num_inference_steps=1,
                                      seed=7)).images[0].data == again.images[0].data  # same request, same bytes


def test_text_to_image_without_a_seed_draws_one(t2i):
    result = t2i.run(TextToImageRequest(prompt="a dog", width=32, height=32, num_inference_steps=1))
    assert isinstance(result.images[0].seed, int) and 0 <= result.images[0].seed < 2**32


def test_a_shipped_safety_checker_sets_nsfw_and_runs_only_when_asked(models_dir, digests):
    import numpy as np

    checked = loaded(models_dir, digests, Pipeline.TEXT_TO_IMAGE, CHECKED)
    ask = dict(prompt="a cat", width=32, height=32, num_inference_steps=1, seed=5)
    flagged = checked.run(TextToImageRequest(**ask, safety_check=True))
    assert flagged.images[0].nsfw is True
    assert not np.asarray(pngs(flagged)[0]).any()  # diffusers blanks what its checker flags
    unchecked = checked.run(TextToImageRequest(**ask, safety_check=False))
    assert unchecked.images[0].nsfw is False and np.asarray(pngs(unchecked)[0]).any()
    assert checked.run(TextToImageRequest(**ask, safety_check=True)).images[0].nsfw is True  # checker restored


@pytest.mark.parametrize("change, words", [
    (dict(prompt=""), "Prompt must be provided"),
    (dict(width=30), "divisible by 8"),
    (dict(height=4096), "between 8 and 2048"),
    (dict(num_inference_steps=0), "num_inference_steps"),
    (dict(num_inference_steps=201), "num_inference_steps"),
    (dict(num_images_per_prompt=9), "num_images_per_prompt"),
    (dict(guidance_scale=-1.0), "guidance_scale"),
    (dict(seed=-5), "seed"),
    (dict(loras='{"some/lora": 1.0}'), "LoRAs are not supported"),
    (dict(loras="not json"), "loras must be a JSON object"),
    (dict(model_id="other/model"), "pipeline configured with tiny/sd but called with other/model"),
])
def test_text_to_image_bad_fields_are_bad_requests_naming_the_field(t2i, change, words):
    fields = dict(prompt="a cat", width=32, height=32, num_inference_steps=1) | change
    with pytest.raises(BadRequest, match=words) as err:
        t2i.run(TextToImageRequest(**fields))
    assert err.value.pipeline == "text-to-image" and err.value.model_id == SD
    assert "tiny/sd" in str(err.value)


def test_an_oversized_prompt_is_too_large(t2i):
    with pytest.raises(TooLarge, match="4000"):
        t2i.run(TextToImageRequest(prompt="a" * 4001, width=32, height=32))


# ------------------------------------------------------------------------------------------ image-to-image
def test_image_to_image_keeps_the_input_size_and_seeds(i2i):
    result = i2i.run(ImageToImageRequest(prompt="a cat", image=image(40, 32), strength=0.5, num_inference_steps=2,
                                         seed=3, num_images_per_prompt=2))
    images = pngs(result)
    assert [im.size for im in images] == [(40, 32), (40, 32)]
    assert [m.seed for m in result.images] == [3, 4]
    again = i2i.run(ImageToImageRequest(prompt="a cat", image=image(40, 32), strength=0.5, num_inference_steps=2,
                                        seed=3))
    assert near(pngs(again)[0], images[0]) and not near(images[0], images[1])


def test_instruct_pix2pix_loads_and_takes_image_guidance_scale(pix2pix):
    def run(igs):
        return pix2pix.run(ImageToImageRequest(prompt="make it red", image=image(32, 32), image_guidance_scale=igs,
                                               num_inference_steps=2, seed=11))
    a, b = run(1.5), run(3.0)
    assert pngs(a)[0].size == (32, 32)
    assert a.images[0].data != b.images[0].data  # the argument reached the pipeline


@pytest.mark.parametrize("change, error, words", [
    (dict(strength=1.5), BadRequest, "strength"),
    (dict(strength=0.5), BadRequest, "leaves no denoising step"),
    (dict(image=Upload("x.png", "image/png", b"not an image")), UnsupportedMedia, "not an image"),
    (dict(image=Upload("x.png", "image/png", b"")), BadRequest, "empty"),
    (dict(image=image(2100, 2100)), TooLarge, "2100x2100"),
])
def test_image_to_image_bad_input(i2i, change, error, words):
    fields = dict(prompt="a cat", image=image(32, 32), num_inference_steps=1) | change
    with pytest.raises(error, match=words):
        i2i.run(ImageToImageRequest(**fields))


# ------------------------------------------------------------------------------------------ image-to-video
def test_image_to_video_is_one_mp4_of_the_model_frames_at_the_request_fps(i2v):
    import av

    result = i2v.run(ImageToVideoRequest(image=image(40, 40), width=48, height=32, fps=5, num_inference_steps=2,
                                         seed=9))
    [video] = result.images
    assert video.content_type == "video/mp4" and video.extension == ".mp4" and video.seed == 9 and not video.nsfw
    with av.open(io.BytesIO(video.data)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        assert stream.average_rate == 5
    assert len(frames) == 3  # the tiny model's num_frames
    assert frames[0].shape == (32, 48, 3)


@pytest.mark.parametrize("change, words", [
    (dict(width=1020), "divisible by 8"),
    (dict(fps=0), "fps"),
    (dict(motion_bucket_id=300), "motion_bucket_id"),
    (dict(noise_aug_strength=2.0), "noise_aug_strength"),
])
def test_image_to_video_bad_fields(i2v, change, words):
    fields = dict(image=image(32, 32), width=32, height=32, num_inference_steps=1) | change
    with pytest.raises(BadRequest, match=words):
        i2v.run(ImageToVideoRequest(**fields))


# ------------------------------------------------------------------------------------------ upscale
def test_a_diffusers_x4_upscaler_makes_a_png_four_times_each_side(models_dir, digests):
    upscaler = loaded(models_dir, digests, Pipeline.UPSCALE, X4)
    result = upscaler.run(UpscaleRequest(prompt="sharp", image=image(16, 12), num_inference_steps=2, seed=4))
    [png] = pngs(result)
    assert png.size == (64, 48) and result.images[0].seed == 4
    again = upscaler.run(UpscaleRequest(prompt="sharp", image=image(16, 12), num_inference_steps=2, seed=4))
    assert again.images[0].data == result.images[0].data
    with pytest.raises(TooLarge, match="1100x1000"):
        upscaler.run(UpscaleRequest(prompt="", image=image(1100, 1000)))
    with pytest.raises(BadRequest, match="num_inference_steps"):
        upscaler.run(UpscaleRequest(prompt="", image=image(16, 12), num_inference_steps=0))


# ------------------------------------------------------------------------------------------ weights
def test_a_directory_of_only_fp16_variant_files_loads_as_float32_on_the_cpu(tmp_path, digests, t2i):
    d = save_tiny_stable_diffusion(tmp_path / "tiny/sd-fp16", variant="fp16")
    assert (d / "unet" / "diffusion_pytorch_model.fp16.safetensors").is_file()
    assert not (d / "unet" / "diffusion_pytorch_model.safetensors").exists()
    runner = loaded(tmp_path, digests, Pipeline.TEXT_TO_IMAGE, "tiny/sd-fp16")
    assert runner.memory_bytes() == t2i.memory_bytes()  # the same architecture in float32, not half the bytes
    assert pngs(runner.run(TextToImageRequest(prompt="a cat", width=32, height=32, num_inference_steps=1)))[0].size \
        == (32, 32)


def test_a_pipeline_directory_of_the_wrong_kind_is_unavailable(models_dir, digests):
    runner = user_runner(ModelSpec(Pipeline.IMAGE_TO_VIDEO, SD), models_dir, cache=digests)
    assert runner.available() is None  # the files verify; what they hold is found out by loading
    with pytest.raises(ModelUnavailable, match="StableDiffusionPipeline.*cannot do image-to-video"):
        runner.load("cpu")


def test_tampered_weights_are_refused_at_load(tmp_path, digests):
    save_tiny_stable_diffusion(tmp_path / SD)
    runner = user_runner(ModelSpec(Pipeline.TEXT_TO_IMAGE, SD), tmp_path, cache=digests)
    assert runner.available() is None
    flip_byte(tmp_path / SD / "unet" / "diffusion_pytorch_model.safetensors")
    with pytest.raises(ModelUnavailable, match="unet/diffusion_pytorch_model.safetensors does not match"):
        runner.load("cpu")
    assert not runner.loaded


def test_missing_manifest_and_unlisted_weights_make_the_model_unavailable(tmp_path, digests):
    d = save_tiny_stable_diffusion(tmp_path / SD)
    runner = user_runner(ModelSpec(Pipeline.TEXT_TO_IMAGE, SD), tmp_path, cache=digests)
    (d / "extra.safetensors").write_bytes(b"\0" * 32)
    assert "extra.safetensors is a weight file not listed" in runner.available()
    (d / "extra.safetensors").unlink()
    (d / "SHA256SUMS").unlink()
    assert "no SHA256SUMS manifest" in runner.available()
    with pytest.raises(ModelUnavailable, match="no SHA256SUMS"):
        runner.load("cpu")


def test_no_directory_is_unavailable(tmp_path, digests):
    runner = user_runner(ModelSpec(Pipeline.IMAGE_TO_VIDEO, "stabilityai/svd"), tmp_path, cache=digests)
    assert runner.available().startswith("no weights for stabilityai/svd at ")
