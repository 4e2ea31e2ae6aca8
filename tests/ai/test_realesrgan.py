"""upscale with the bundled Real-ESRGAN ncnn models on a drawn picture."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.ai.ports import BadRequest, ImagesResult, TooLarge, UnsupportedMedia, Upload, UpscaleRequest
from core.ai.runners import realesrgan
from core.ai.runners.realesrgan import animevideov3_runner, param_blobs, x4plus_runner


def picture(w: int, h: int) -> Image.Image:
    """A sky, a sun with an outline, a diagonal and some text: edges for a super-resolution model to sharpen."""
    im = Image.new("RGB", (w, h), (30, 60, 120))
    d = ImageDraw.Draw(im)
    d.ellipse((w * 0.1, h * 0.1, w * 0.6, h * 0.8), fill=(240, 200, 40), outline=(0, 0, 0))
    d.line((0, h - 1, w - 1, 0), fill=(255, 255, 255), width=2)
    d.text((4, 4), "lpc", fill=(255, 0, 0))
    return im


def png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def upscale(runner, data: bytes, seed=None):
    return runner.run(UpscaleRequest(prompt="", image=Upload("in.png", "image/png", data), seed=seed))


@pytest.fixture(scope="module")
def anime():
    runner = animevideov3_runner()
    assert runner.available() is None
    runner.load("cpu")
    yield runner
    runner.unload()


def test_the_blob_names_come_from_the_param_files():
    for runner in (animevideov3_runner(), x4plus_runner()):
        param = realesrgan.realesrgan_models_dir() / f"{runner.stem}.param"
        assert param_blobs(param.read_text()) == ("data", "output")


def test_a_64x48_png_becomes_256x192_made_by_the_model(anime):
    source = picture(64, 48)
    result = upscale(anime, png(source), seed=7)
    assert isinstance(result, ImagesResult) and len(result.images) == 1
    media = result.images[0]
    assert (media.content_type, media.extension, media.seed, media.nsfw) == ("image/png", ".png", 7, False)
    out = Image.open(io.BytesIO(media.data))
    assert out.format == "PNG" and out.size == (256, 192)
    got = np.asarray(out.convert("RGB"), dtype=np.int16)
    bicubic = np.asarray(source.resize((256, 192), Image.BICUBIC), dtype=np.int16)
    difference = np.abs(got - bicubic).mean()
    assert 1.0 < difference < 30.0, difference  # the same picture, but not a plain resize
    # the sun is still yellow where it was: the model kept the content
    assert tuple(got[96, 90]) == pytest.approx((240, 200, 40), abs=25)


def test_without_a_seed_the_result_carries_a_random_one(anime):
    seeds = {upscale(anime, png(picture(16, 16))).images[0].seed for _ in range(3)}
    assert len(seeds) > 1 and all(isinstance(s, int) for s in seeds)


def test_tiles_do_not_show(anime, monkeypatch):
    source = picture(300, 280)  # 2x2 tiles of 256
    tiled = np.asarray(Image.open(io.BytesIO(upscale(anime, png(source)).images[0].data)), dtype=np.int16)
    monkeypatch.setattr(realesrgan, "TILE", 1024)
    whole = np.asarray(anime.upscale(source), dtype=np.int16)
    assert tiled.shape == whole.shape == (1120, 1200, 3)
    assert np.abs(tiled - whole).max() <= 2


@pytest.mark.parametrize("data", [b"not an image" * 20, png(picture(20, 20))[:60]])
def test_a_corrupt_image_is_unsupported_media(anime, data):
    with pytest.raises(UnsupportedMedia, match="in.png is not an image"):
        upscale(anime, data)


def test_an_input_whose_output_is_too_large_is_refused_with_the_limit(anime):
    with pytest.raises(TooLarge, match=r"1100x1000 would become 4400x4000; the limit is 16,777,216 output pixels"):
        upscale(anime, png(Image.new("RGB", (1100, 1000))))


def test_another_model_id_is_refused(anime):
    request = UpscaleRequest(prompt="", image=Upload("in.png", "image/png", png(picture(8, 8))),
                             model_id="stabilityai/stable-diffusion-x4-upscaler")
    with pytest.raises(BadRequest, match="configured with realesrgan/realesr-animevideov3-x4"):
        anime.run(request)


def test_x4plus_upscales_too():
    runner = x4plus_runner()
    runner.load("cpu")
    out = Image.open(io.BytesIO(upscale(runner, png(picture(32, 24))).images[0].data))
    assert out.size == (128, 96)
    runner.unload()
    assert not runner.loaded


def test_the_vulkan_path_makes_the_same_picture(anime):
    """The GPU path, run on whatever Vulkan device ncnn has (here Mesa's llvmpipe, a software device the
    probe never picks for real work), gives the CPU path's picture up to fp16 rounding."""
    import ncnn

    from core.ai.device import stderr_silenced

    with stderr_silenced():
        if ncnn.get_gpu_count() == 0:
            pytest.skip("no Vulkan device at all, not even a software one")
    data = png(picture(64, 48))
    runner = animevideov3_runner()
    runner.load("vulkan:0")
    assert runner.device == "vulkan:0"
    on_gpu = np.asarray(Image.open(io.BytesIO(upscale(runner, data).images[0].data)), dtype=np.int16)
    on_cpu = np.asarray(Image.open(io.BytesIO(upscale(anime, data).images[0].data)), dtype=np.int16)
    assert on_gpu.shape == on_cpu.shape == (192, 256, 3)
    assert np.abs(on_gpu - on_cpu).mean() < 1.0 and np.abs(on_gpu - on_cpu).max() <= 12
    runner.unload()
