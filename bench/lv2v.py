"""Live video-to-video at 512x512: each per-frame pipeline alone, and (when core/live's node path is on this
branch) what the node adds around it, printed side by side in one run.

    PYTHONPATH=. python bench/lv2v.py [--seconds 4] [--pipelines face-blur,background-blur,style-transfer]

Model alone: the pipeline loaded in this process, its processor fed a moving 512x512 clip (the astronaut
photo panning, so the face tracker and the mask smoothing work as on video) back to back for --seconds:
the model's own time per frame (p50, p95) and the sustained frame rate.

Through the node (bench/lv2v_node.py): the first variant of each pipeline in one live session through a
real `lpc node --orchestrator --aiWorker` process, fed the same clip at 30 fps over trickle: end-to-end
per frame (trickle in -> decode -> model -> encode -> trickle out), the same minus the model's own time
(what the node adds), and the output frame rate. It needs core/live/session.py (issue #13's session).

Aim (issue #13): the node adds < 50 ms per frame at p95; the pipeline keeps a 30 fps input's rate or
says it cannot (the sustained fps column).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from core.ai.runners.base import package_dir  # noqa: E402
from core.live.pipelines import bundled_pipelines, live_device  # noqa: E402

SIZE = 512
VARIANTS = {  # pipeline -> (label, params) rows
    "face-blur": [("detect every frame", {}), ("detect_every 2", {"detect_every": 2})],
    "background-blur": [("blur", {}), ("replace", {"mode": "replace"})],
    "style-transfer": [("style 7", {"style": 7})],
}


def clip(frames: int) -> list[np.ndarray]:
    """A panning 512x512 clip cut from the astronaut photo scaled to 640x640 (a real face and person)."""
    root = package_dir("skimage")
    if root is None:
        raise SystemExit("scikit-image's sample photos are needed (pip install --no-deps scikit-image==0.26.0)")
    photo = np.asarray(Image.open(root / "data" / "astronaut.png").convert("RGB").resize((640, 640)))
    out = []
    for i in range(frames):
        dx = int(64 + 60 * np.sin(i / 15))
        dy = int(64 + 40 * np.cos(i / 20))
        out.append(np.ascontiguousarray(photo[dy:dy + SIZE, dx:dx + SIZE]))
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def model_alone(pipeline, params: dict, frames: list[np.ndarray], seconds: float) -> dict:
    proc = pipeline.open(params)
    for f in frames[:3]:  # warm-up: onnxruntime's first runs allocate
        proc.process(f)
    times, n = [], 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        f = frames[n % len(frames)]
        t = time.perf_counter()
        proc.process(f)
        times.append(time.perf_counter() - t)
        n += 1
    wall = time.perf_counter() - start
    proc.close()
    return {"p50": statistics.median(times) * 1000, "p95": pct(times, 0.95) * 1000, "fps": n / wall, "n": n}


def node_path_available() -> str | None:
    if importlib.util.find_spec("core.live.session") is None:
        return "core/live/session.py (the live session) is not on this branch yet"
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--pipelines", default="face-blur,background-blur,style-transfer")
    ap.add_argument("--node-seconds", type=float, default=6.0, help="length of the clip sent through the node")
    ap.add_argument("--no-node", action="store_true", help="only the pipelines alone")
    args = ap.parse_args()
    wanted = args.pipelines.split(",")
    device = live_device()
    frames = clip(120)
    print(f"live pipelines at {SIZE}x{SIZE}, device {device}, {args.seconds:g} s each")
    why_no_node = "--no-node" if args.no_node else node_path_available()
    alone: dict[str, tuple[dict, float]] = {}
    header = f"{'pipeline':<18}{'variant':<20}{'model p50':>10}{'model p95':>10}{'fps':>7}  keeps 30 fps"
    print(header)
    print("-" * len(header))
    for pipeline in bundled_pipelines():
        model_id = pipeline.info.model_id
        if model_id not in wanted:
            continue
        problem = pipeline.available()
        if problem:
            print(f"{model_id:<18}unavailable: {problem}")
            continue
        t = time.perf_counter()
        pipeline.load(device)
        load_s = time.perf_counter() - t
        for n, (label, params) in enumerate(VARIANTS.get(model_id, [("defaults", {})])):
            r = model_alone(pipeline, params, frames, args.seconds)
            if n == 0:
                alone[model_id] = (params, r["p50"])
            keeps = "yes" if r["fps"] >= 30 else f"no ({r['fps'] / 30:.0%} of it)"
            print(f"{model_id:<18}{label:<20}{r['p50']:>8.1f}ms{r['p95']:>8.1f}ms{r['fps']:>7.1f}  {keeps}")
        print(f"{'':<18}(load {load_s:.2f} s)")
    if why_no_node:
        print(f"\nthrough the node: not measured: {why_no_node}")
        return 0
    from lv2v_node import through_node

    node_frames = clip(int(args.node_seconds * 30))
    print(f"\nthrough a real node ({len(node_frames)} frames sent at 30 fps, 1 s MPEG-TS segments):")
    header = (f"{'pipeline':<18}{'frames in/out':>14}{'out fps':>9}{'e2e p50':>9}{'e2e p95':>9}"
              f"{'model':>8}{'added p50':>11}{'added p95':>11}  aim p95 < 50 ms")
    print(header)
    print("-" * len(header))
    for model_id, (params, model_p50) in alone.items():
        try:
            r = through_node(model_id, params, node_frames, model_p50)
        except Exception as exc:  # noqa: BLE001 - one pipeline failing must not hide the others
            print(f"{model_id:<18}failed: {exc}")
            continue
        ok = "yes" if r["added_p95"] < 50 else "no"
        print(f"{model_id:<18}{r['frames_in']:>6}/{r['frames_out']:<7}{r['fps']:>9.1f}{r['e2e_p50']:>7.1f}ms"
              f"{r['e2e_p95']:>7.1f}ms{r['model_ms']:>6.1f}ms{r['added_p50']:>9.1f}ms{r['added_p95']:>9.1f}ms  {ok}"
              f"  (model time from {r['model_from']}, frames paired by {r['paired_by']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
