"""Turn a map's data (:class:`ItemMap`, :class:`DiffMap`) into a :class:`Scene` to draw."""

from __future__ import annotations

from .diffmap import DiffMap
from .layout import (
    MARGIN,
    NO_GROUP,
    PALETTE,
    TEXT,
    Frame,
    Label,
    LegendEntry,
    Marker,
    Scene,
    Segment,
    colour_of,
    font_size_for,
    frame_for,
)
from .placement import place_labels
from .points import ItemMap

MOST_LEGEND_ENTRIES = 30
SMALL_MAP = 100
"""Maps of up to this many items name every item, with leader lines where it is crowded;
bigger maps name the items whose names fit beside their dots."""
OLD_COLOUR = "#8a8a8a"
NEW_COLOUR = PALETTE[0]
MOVED_COLOUR = PALETTE[3]


def map_scene(item_map: ItemMap) -> Scene:
    """Every item as a dot coloured by its group, named where the name fits."""
    n = len(item_map.points)
    frame, size = frame_for(n), font_size_for(n)
    radius = 4.5 if n <= 100 else 3.2
    markers: list[Marker] = []
    wanted: list[Label | None] = []
    for index, point in enumerate(item_map.points):
        x, y = frame.pixels(point.x, point.y)
        centre = item_map.around is not None and index == 0
        group = f" ({point.group})" if point.group is not None else ""
        markers.append(Marker(x, y, radius * (1.6 if centre else 1.0),
                              colour_of(item_map.groups, point.group),
                              TEXT if centre else None, f"{point.item}{group}"))
        wanted.append(Label(point.item, x, y, "start", size * (1.2 if centre else 1.0), TEXT,
                            bold=centre))
    what = (f"neighbourhood of {item_map.around} ({n - 1} nearest)"
            if item_map.around is not None else f"{n} most frequent items")
    title = (f"{item_map.model} version {item_map.version}: {what}, "
             f"{item_map.method.upper()} (seed {item_map.seed})")
    legend = [LegendEntry(group, colour_of(item_map.groups, group), None)
              for group in item_map.groups[:MOST_LEGEND_ENTRIES]]
    if len(item_map.groups) > MOST_LEGEND_ENTRIES:
        legend.append(LegendEntry(f"{len(item_map.groups) - MOST_LEGEND_ENTRIES} more groups",
                                  None, None))
    if any(point.group is None for point in item_map.points):
        legend.append(LegendEntry("no label", NO_GROUP, None))
    return _scene(frame, title, markers, [], wanted, legend)


def diff_scene(diff: DiffMap) -> Scene:
    """Rings at the old positions, dots at the new ones, a line for each move; the items
    that moved most in red."""
    frame, size = frame_for(2 * len(diff.points)), font_size_for(len(diff.points))
    radius = 4.5 if len(diff.points) <= 60 else 3.2
    markers: list[Marker] = []
    segments: list[Segment] = []
    wanted: list[Label | None] = []
    order = sorted(range(len(diff.points)), key=lambda i: (
        i != 0, not diff.points[i].marked, i))
    for point in (diff.points[i] for i in order):
        centre = point.item == diff.around
        colour = MOVED_COLOUR if point.marked else TEXT
        near = "" if point.near_in_old == point.near_in_new else (
            f" (among the {diff.k} nearest in version "
            f"{diff.old_version if point.near_in_old else diff.new_version} only)")
        old_xy = frame.pixels(*point.old) if point.old is not None else None
        new_xy = frame.pixels(*point.new) if point.new is not None else None
        if old_xy is not None and new_xy is not None:
            segments.append(Segment(*old_xy, *new_xy, MOVED_COLOUR if point.marked
                                    else "#c8c8c8", 1.8 if point.marked else 0.8))
        if old_xy is not None:
            markers.append(Marker(*old_xy, radius, None, OLD_COLOUR,
                                  f"{point.item}: version {diff.old_version}{near}"))
            wanted.append(None if new_xy is not None else
                          Label(point.item, *old_xy, "start", size, colour, bold=centre))
        if new_xy is not None:
            moved = "" if point.moved is None else f", moved {point.moved:.3f}"
            markers.append(Marker(*new_xy, radius * (1.4 if centre else 1.0),
                                  MOVED_COLOUR if point.marked else NEW_COLOUR,
                                  TEXT if centre else None,
                                  f"{point.item}: version {diff.new_version}{moved}{near}"))
            wanted.append(Label(point.item, *new_xy, "start", size, colour,
                                bold=centre or point.marked))
    title = (f"{diff.model}: neighbourhood of {diff.around} ({diff.k} nearest), version "
             f"{diff.old_version} -> {diff.new_version}, {diff.method.upper()}, "
             f"aligned on {diff.anchors} shared items")
    legend = [LegendEntry(f"version {diff.old_version}", None, OLD_COLOUR),
              LegendEntry(f"version {diff.new_version}", NEW_COLOUR, None),
              LegendEntry("moved most", MOVED_COLOUR, None)]
    return _scene(frame, title, markers, segments, wanted, legend)


def _scene(frame: Frame, title: str, markers: list[Marker], segments: list[Segment],
           wanted: list[Label | None], legend: list[LegendEntry]) -> Scene:
    labels, leaders = place_labels(markers, wanted, (frame.side + 2 * MARGIN, frame.height),
                                   leaders=sum(label is not None for label in wanted) <= SMALL_MAP)
    return Scene(width=frame.width, height=frame.height, title=title, markers=markers,
                 segments=[*leaders, *segments], labels=labels, legend=legend,
                 legend_size=11.0)


def picture_scene(picture: ItemMap | DiffMap) -> Scene:
    return diff_scene(picture) if isinstance(picture, DiffMap) else map_scene(picture)
