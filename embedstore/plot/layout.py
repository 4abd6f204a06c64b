"""What a picture holds, in pixels: markers, lines, labels and a legend (a :class:`Scene`),
and where item names go so that they do not collide.

A scene is drawn the same by matplotlib (PNG, SVG) and by the HTML writer, so every format
shows the same labels in the same places.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CHARACTER_WIDTH = 0.62
"""Width of an average character of DejaVu Sans, in font sizes (a safe over-estimate)."""
LINE_HEIGHT = 1.25
GAP = 2.0
MARGIN = 24.0
TITLE_HEIGHT = 34.0
LEGEND_WIDTH = 190.0
LEGEND_STEP = 18.0
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)
"""Group colours (matplotlib's tab10 then the light half of tab20); more groups cycle."""
NO_GROUP = "#b0b0b0"
TEXT = "#222222"


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    radius: float
    fill: str | None
    stroke: str | None
    title: str


@dataclass(frozen=True)
class Segment:
    x1: float
    y1: float
    x2: float
    y2: float
    color: str
    width: float


@dataclass(frozen=True)
class Label:
    """A text whose box is vertically centred on ``y``; ``anchor`` is ``start`` (text runs
    right from ``x``), ``end`` or ``middle``."""

    text: str
    x: float
    y: float
    anchor: str
    size: float
    color: str
    bold: bool = False


@dataclass(frozen=True)
class LegendEntry:
    text: str
    fill: str | None
    stroke: str | None


@dataclass(frozen=True)
class Scene:
    width: float
    height: float
    title: str
    markers: list[Marker]
    segments: list[Segment]
    labels: list[Label]
    legend: list[LegendEntry]
    legend_size: float


@dataclass(frozen=True)
class Frame:
    """Where the square of map coordinates [-1, 1]^2 sits in the picture (y grows down)."""

    side: float

    @property
    def width(self) -> float:
        return self.side + 2 * MARGIN + LEGEND_WIDTH

    @property
    def height(self) -> float:
        return self.side + 2 * MARGIN + TITLE_HEIGHT

    def pixels(self, x: float, y: float) -> tuple[float, float]:
        half = self.side / 2
        return (round(MARGIN + half * (1 + x), 2),
                round(TITLE_HEIGHT + MARGIN + half * (1 - y), 2))


def frame_for(n_points: int) -> Frame:
    """A bigger square for more points: 560 px up to 100 points, 1000 px beyond."""
    return Frame(side=560.0 if n_points <= 100 else 1000.0)


def font_size_for(n_points: int) -> float:
    return 11.0 if n_points <= 100 else 8.0


def text_box(label: Label) -> tuple[float, float, float, float]:
    """The box (left, top, right, bottom) that ``label`` is estimated to cover."""
    width = CHARACTER_WIDTH * label.size * len(label.text) * (1.08 if label.bold else 1.0)
    half_height = LINE_HEIGHT * label.size / 2
    left = {"start": label.x, "end": label.x - width, "middle": label.x - width / 2}[label.anchor]
    return left, label.y - half_height, left + width, label.y + half_height


def place_labels(
    markers: Sequence[Marker], wanted: Sequence[Label | None], bounds: tuple[float, float],
) -> list[Label]:
    """Labels that collide neither with each other nor with a marker, in priority order.

    ``wanted[i]`` is the label of ``markers[i]`` (None: no label), placed at the marker's
    centre; earlier labels win. Each label tries right, left, above, below and the four
    diagonals of its marker, and is left out when no position is free or inside ``bounds``
    (width, height).
    """
    boxes = np.zeros((len(markers) + len(wanted), 4))
    grid = _Grid()
    for index, m in enumerate(markers):
        boxes[index] = (m.x - m.radius, m.y - m.radius, m.x + m.radius, m.y + m.radius)
        grid.add(index, boxes[index])
    used = len(markers)
    placed: list[Label] = []
    for index, label in enumerate(wanted):
        if label is None:
            continue
        marker = markers[index]
        candidates = [Label(label.text, marker.x + dx, marker.y + dy, anchor, label.size,
                            label.color, label.bold)
                      for dx, dy, anchor in _offsets(marker.radius, label.size)]
        spots = np.array([text_box(candidate) for candidate in candidates])
        nearby = [i for i in grid.near(spots.min(axis=0)[:2], spots.max(axis=0)[2:])
                  if i != index]
        others = boxes[nearby]
        overlaps = ((others[None, :, 0] < spots[:, None, 2])
                    & (others[None, :, 2] > spots[:, None, 0])
                    & (others[None, :, 1] < spots[:, None, 3])
                    & (others[None, :, 3] > spots[:, None, 1]))
        free = (~overlaps.any(axis=1) & (spots[:, 0] >= 0) & (spots[:, 1] >= 0)
                & (spots[:, 2] <= bounds[0]) & (spots[:, 3] <= bounds[1]))
        if free.any():
            choice = int(np.argmax(free))
            placed.append(candidates[choice])
            boxes[used] = spots[choice]
            grid.add(used, boxes[used])
            used += 1
    return placed


class _Grid:
    """Boxes filed by the square cells they touch, to find the few near a place quickly."""

    CELL = 48.0

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[int]] = {}

    def _keys(self, low: np.ndarray, high: np.ndarray) -> list[tuple[int, int]]:
        columns = range(int(low[0] // self.CELL), int(high[0] // self.CELL) + 1)
        rows = range(int(low[1] // self.CELL), int(high[1] // self.CELL) + 1)
        return [(column, row) for column in columns for row in rows]

    def add(self, index: int, box: np.ndarray) -> None:
        for key in self._keys(box[:2], box[2:]):
            self.cells.setdefault(key, []).append(index)

    def near(self, low: np.ndarray, high: np.ndarray) -> list[int]:
        """Every box touching a cell that the rectangle from ``low`` to ``high`` touches."""
        found: set[int] = set()
        for key in self._keys(low, high):
            found.update(self.cells.get(key, ()))
        return sorted(found)


def _offsets(radius: float, size: float) -> list[tuple[float, float, str]]:
    """Where a label may sit relative to its marker's centre, in order of preference."""
    reach = radius + GAP
    half_height = LINE_HEIGHT * size / 2
    diagonal = radius * 0.7 + half_height
    return [(reach, 0.0, "start"), (-reach, 0.0, "end"), (0.0, -(reach + half_height), "middle"),
            (0.0, reach + half_height, "middle"), (reach * 0.7, -diagonal, "start"),
            (reach * 0.7, diagonal, "start"), (-reach * 0.7, -diagonal, "end"),
            (-reach * 0.7, diagonal, "end")]


def legend_position(scene: Scene, index: int) -> tuple[float, float]:
    """The centre of the marker of legend entry ``index`` (its text starts 10 px right)."""
    return scene.width - LEGEND_WIDTH + 10, TITLE_HEIGHT + MARGIN + LEGEND_STEP * index


def colour_of(groups: Sequence[str], group: str | None) -> str:
    """The colour of ``group`` (its place in ``groups`` picks it); grey for no group."""
    if group is None:
        return NO_GROUP
    return PALETTE[list(groups).index(group) % len(PALETTE)]
