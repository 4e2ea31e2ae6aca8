"""A small picture of a video frame in the terminal: two pixels per character cell (upper half block,
foreground = top pixel, background = bottom pixel)."""

from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style


class FramePreview:
    """A Rich renderable of an RGB frame (H×W×3 uint8), scaled to `width` cells."""

    def __init__(self, frame: np.ndarray, width: int = 48) -> None:
        self.frame = frame
        self.width = width

    def _scaled(self) -> np.ndarray:
        h, w = self.frame.shape[:2]
        cols = max(1, min(self.width, w))
        rows = max(2, int(round(h * cols / w / 1.0)) // 2 * 2)  # cells are ~2:1, two pixels per cell
        ys = (np.arange(rows) * h / rows).astype(int)
        xs = (np.arange(cols) * w / cols).astype(int)
        return self.frame[ys][:, xs]

    def __rich_console__(self, console, options):
        img = self._scaled()
        for y in range(0, img.shape[0] - 1, 2):
            top, bottom = img[y], img[y + 1]
            for (r1, g1, b1), (r2, g2, b2) in zip(top, bottom):
                yield Segment("▀", Style(color=Color.from_rgb(r1, g1, b1), bgcolor=Color.from_rgb(r2, g2, b2)))
            yield Segment.line()
