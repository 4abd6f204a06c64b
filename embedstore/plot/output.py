"""Write a map to a file whose name says its format: ``.png``, ``.svg`` or ``.html``."""

from __future__ import annotations

import io
import os
from pathlib import Path

from ..errors import InputError, QueryError
from ..store import StoreLike
from .diffmap import diff_map
from .draw import draw
from .html import html_page
from .points import DEFAULT_ITEMS, DEFAULT_K, ItemMap, map_points
from .scene import DiffMap, picture_scene

FORMATS = {".png": "png", ".svg": "svg", ".html": "html", ".htm": "html"}


def format_of(output: str | Path) -> str:
    """``png``, ``svg`` or ``html`` from the file name; :class:`QueryError` for others."""
    suffix = Path(output).suffix.lower()
    if suffix not in FORMATS:
        raise QueryError(f"cannot tell the picture format of {output}; name the output "
                         "file .png, .svg or .html")
    return FORMATS[suffix]


def render(picture: ItemMap | DiffMap, file_format: str) -> bytes:
    """The bytes of ``picture`` drawn as ``png``, ``svg`` or ``html``."""
    scene = picture_scene(picture)
    if file_format == "html":
        return html_page(scene, picture.to_json()).encode("utf-8")
    buffer = io.BytesIO()
    draw(scene, buffer, file_format)
    return buffer.getvalue()


def save_picture(picture: ItemMap | DiffMap, output: str | Path) -> str:
    """Draw ``picture`` into ``output`` (complete or not at all); returns the format."""
    output = Path(output)
    file_format = format_of(output)
    content = render(picture, file_format)
    partial = output.with_name(f".{output.name}.{os.getpid()}.partial")
    try:
        partial.write_bytes(content)
        os.replace(partial, output)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise InputError(f"cannot write {output}: {error.strerror or error}; check that its "
                         "folder exists and is writable") from None
    return file_format


def write_plot(
    output: str | Path, store: StoreLike = None, model: str = "default",
    version: int | str | None = None, *, items: int = DEFAULT_ITEMS, around: str | None = None,
    k: int = DEFAULT_K, labels: str | Path | None = None, method: str = "pca", seed: int = 0,
    diff: tuple[int | str, int | str] | None = None,
) -> ItemMap | DiffMap:
    """What ``embed plot`` does: build the map (:func:`map_points`, or :func:`diff_map` when
    ``diff`` names two versions) and draw it into ``output``; returns the map's data."""
    format_of(output)
    picture: ItemMap | DiffMap
    if diff is not None:
        if around is None:
            raise QueryError("a diff picture shows one item's neighbourhood; name the item "
                             "with --around")
        picture = diff_map(store, model, diff[0], diff[1], around, k=k, method=method,
                           seed=seed)
    else:
        picture = map_points(store, model, version, items=items, around=around, k=k,
                             labels=labels, method=method, seed=seed)
    save_picture(picture, output)
    return picture
