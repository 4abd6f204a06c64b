"""Pictures of the space: 2-D maps of a version, or of how a neighbourhood moved.

:func:`map_points` (or :func:`map_version` of a version already open) and :func:`diff_map`
return the maps as plain data (what ``embed serve``'s page fetches as JSON);
:func:`write_plot` draws them to PNG, SVG (matplotlib, in the ``plot`` extra) or
self-contained HTML (no extra needed).
"""

from __future__ import annotations

from .diffmap import DiffMap, DiffPoint, diff_map
from .output import render, save_picture, write_plot
from .points import ItemMap, MapPoint, map_points, map_version

__all__ = ["DiffMap", "DiffPoint", "ItemMap", "MapPoint", "diff_map", "map_points",
           "map_version", "render", "save_picture", "write_plot"]
