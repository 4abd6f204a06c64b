"""embed plot and embedstore.plot: map data, pictures, label placement, the diff picture."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from embedstore_cli.main import cli

import embedstore
from embedstore.plot import diff_map, map_points, render, write_plot
from embedstore.plot.layout import Label, Marker, text_box
from embedstore.plot.placement import place_labels
from embedstore.plot.scene import map_scene
from tests.conftest import ANIMALS, DATA, VEHICLES

SAMPLE_ITEMS = 48


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data/sample.csv trained once for the whole module, with the default method."""
    store = tmp_path_factory.mktemp("plot") / "store"
    embedstore.train_file(DATA / "sample.csv", store=store, quiet=True)
    return store


@pytest.fixture
def plot(sample_store: Path) -> Callable[..., Result]:
    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--store", str(sample_store), "plot", *args])

    return invoke


def test_map_of_the_most_frequent_items_fills_the_unit_square(sample_store: Path) -> None:
    whole = map_points(sample_store)
    items = [point.item for point in whole.points]
    assert len(items) == SAMPLE_ITEMS and {*ANIMALS, *VEHICLES, "king", "queen"} <= set(items)
    coordinates = np.array([(point.x, point.y) for point in whole.points])
    assert np.abs(coordinates).max() == pytest.approx(1.0)
    assert (whole.model, whole.version, whole.method, whole.grouping) == (
        "default", 1, "pca", "clusters")
    top = map_points(sample_store, items=5)
    assert [point.item for point in top.points] == items[:5]


def test_neighbourhood_map_holds_the_item_and_its_nearest(sample_store: Path) -> None:
    near_cat = map_points(sample_store, around="cat", k=3)
    assert near_cat.points[0].item == "cat"
    assert sorted(point.item for point in near_cat.points[1:]) == ["dog", "kitten", "puppy"]


def test_clusters_put_the_animals_together_and_apart_from_the_vehicles(
        sample_store: Path) -> None:
    group_of = {point.item: point.group for point in map_points(sample_store).points}
    members: dict[str | None, set[str]] = {}
    for item, group in group_of.items():
        members.setdefault(group, set()).add(item)
    assert set(ANIMALS) <= members[group_of["cat"]]
    assert members[group_of["car"]] == set(VEHICLES)
    assert len(members) == 4
    assert group_of["king"] == group_of["queen"] == group_of["prince"] != group_of["woman"]


def test_labels_file_colours_the_map(sample_store: Path, write: Callable[..., Path]) -> None:
    labels = write("groups.csv", "item,group\n" + "".join(f"{a},pets\n" for a in ANIMALS)
                   + "".join(f"{v},wheels\n" for v in VEHICLES)
                   + "unicorn,myth\n")
    labelled = map_points(sample_store, labels=labels)
    group_of = {point.item: point.group for point in labelled.points}
    assert labelled.grouping == "labels"
    assert sorted(labelled.groups) == ["pets", "wheels"]
    assert {group_of[item] for item in ANIMALS} == {"pets"}
    assert {group_of[item] for item in VEHICLES} == {"wheels"}
    assert group_of["king"] is None
    page = render(labelled, "html").decode()
    scene = map_scene(labelled)
    cat = next(marker for marker in scene.markers if marker.title == "cat (pets)")
    car = next(marker for marker in scene.markers if marker.title == "car (wheels)")
    king = next(marker for marker in scene.markers if marker.title == "king")
    assert len({cat.fill, car.fill, king.fill}) == 3
    assert f'fill="{cat.fill}"><title>cat (pets)</title>' in page
    assert ">pets</text>" in page and ">no label</text>" in page


@pytest.mark.parametrize(("content", "message"), [
    ("cat,pets\ndog\n", "groups.csv, line 2: expected 2 columns (item,group), found 1"),
    ("cat,pets\n,wheels\n", "groups.csv, line 2: empty item"),
    ("cat,pets\ndog,\n", "groups.csv, line 2: empty group"),
    ("cat,pets\ncat,wheels\n", "groups.csv, line 2: 'cat' is in group 'wheels' here but in "
                               "'pets' on line 1"),
    (b"cat,pets\ndog,\xff\n", "groups.csv, line 2: bytes that are not UTF-8"),
    ("\n", "groups.csv holds no item,group lines"),
    ("unicorn,myth\n", "none of the 48 items on the map is in"),
])
def test_bad_labels_file_is_one_error_line_and_no_picture(
        plot: Callable[..., Result], write: Callable[..., Path], tmp_path: Path,
        content: str | bytes, message: str) -> None:
    labels = write("groups.csv", content)
    result = plot("-o", str(tmp_path / "map.png"), "--labels", str(labels))
    assert result.exit_code == 1
    assert message in result.output
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert not (tmp_path / "map.png").exists()


def test_tab_separated_labels_file(sample_store: Path, write: Callable[..., Path]) -> None:
    labels = write("groups.tsv", "cat\tpets\n\"New York, NY\"\tcities\n")
    group_of = {p.item: p.group for p in map_points(sample_store, labels=labels).points}
    assert group_of["cat"] == "pets" and group_of["dog"] is None


def test_unknown_item_names_close_spellings(plot: Callable[..., Result],
                                            tmp_path: Path) -> None:
    result = plot("-o", str(tmp_path / "map.svg"), "--around", "kitte")
    assert result.exit_code == 1
    assert result.output == ("Error: unknown item 'kitte' in model 'default' version 1; did "
                             "you mean 'kitten'?\n")
    assert not (tmp_path / "map.svg").exists()


@pytest.mark.parametrize("args", [
    ("-o", "map.jpg"), ("-o", "map.png", "--diff", "1", "1"), ("-o", "map.png", "--items", "0"),
    ("-o", "map.png", "--method", "umap"),
])
def test_usage_mistakes_exit_with_2(plot: Callable[..., Result], args: tuple[str, ...]) -> None:
    assert plot(*args).exit_code == 2


def test_tsne_refuses_too_few_items(plot: Callable[..., Result], tmp_path: Path) -> None:
    result = plot("-o", str(tmp_path / "map.png"), "--around", "cat", "--k", "3",
                  "--method", "tsne")
    assert result.exit_code == 1
    assert "t-SNE needs at least 5 items, not 4; use --method pca" in result.output


def test_png_svg_and_html_are_valid_and_carry_the_labels(
        plot: Callable[..., Result], sample_store: Path, tmp_path: Path) -> None:
    for name in ("map.png", "map.svg", "map.html"):
        result = plot("-o", str(tmp_path / name), "--around", "cat", "--k", "10")
        assert result.exit_code == 0, result.output
        assert result.output.startswith(f"wrote {tmp_path / name}: cat and 10 neighbours of "
                                        "default version 1, PCA, ")
    import matplotlib.image

    png = tmp_path / "map.png"
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert matplotlib.image.imread(png).shape[:2] == (2 * 642, 2 * 798)
    svg = ElementTree.parse(tmp_path / "map.svg")
    texts = {"".join(element.itertext()) for element in svg.iter()
             if element.tag.endswith("text")}
    assert {"cat", "dog", "kitten", "puppy"} <= {name for text in texts
                                                 for name in text.split(", ")}
    assert "default version 1: neighbourhood of cat (10 nearest), PCA (seed 0)" in texts
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    HTMLParser().feed(page)
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "http" not in page and "src=" not in page and "<link" not in page
    data = json.loads(page.split('id="map-data">')[1].split("</script>")[0])
    assert data == map_points(sample_store, around="cat", k=10).to_json()
    for point in data["points"]:
        assert f"<title>{point['item']} ({point['group']})</title>" in page


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_same_data_settings_and_seed_give_the_same_bytes(
        sample_store: Path, tmp_path: Path, method: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, when in (("a", "0"), ("b", "1000000000")):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", when)  # a date in a file would differ
        for suffix in ("png", "svg", "html"):
            write_plot(tmp_path / f"{name}.{suffix}", sample_store, method=method, seed=3)
    for suffix in ("png", "svg", "html"):
        assert (tmp_path / f"a.{suffix}").read_bytes() == (tmp_path / f"b.{suffix}").read_bytes()


def test_json_prints_the_points(plot: Callable[..., Result], tmp_path: Path) -> None:
    result = plot("-o", str(tmp_path / "map.html"), "--around", "car", "--k", "3", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["output"] == str(tmp_path / "map.html")
    assert data["points"][0]["item"] == "car"
    assert set(data["points"][0]) == {"item", "x", "y", "group"}


def test_labels_never_collide_and_earlier_labels_win() -> None:
    markers = [Marker(100, 100, 4, "#000", None, "a"), Marker(100, 100, 4, "#000", None, "b"),
               Marker(300, 300, 4, "#000", None, "c")]
    wanted = [Label(m.title, m.x, m.y, "start", 10, "#000") for m in markers]
    placed, leaders = place_labels(markers, wanted, (400, 400))
    assert [(label.text, label.anchor, label.x) for label in placed] == [
        ("a, b", "start", 106), ("c", "start", 306)]  # a and b coincide: one joint label
    assert leaders == []
    rng = np.random.default_rng(0)
    crowd = [Marker(float(x), float(y), 3, "#000", None, f"item{i}")
             for i, (x, y) in enumerate(rng.uniform(0, 300, size=(300, 2)))]
    placed, leaders = place_labels(
        crowd, [Label(m.title, m.x, m.y, "start", 9, "#000") for m in crowd], (300, 300))
    assert 0 < len(placed) < len(crowd) and leaders == []
    boxes = [text_box(label) for label in placed]
    for i, (left, top, right, bottom) in enumerate(boxes):
        assert left >= 0 and top >= 0 and right <= 300 and bottom <= 300
        for other in boxes[i + 1:]:
            assert not (left < other[2] and other[0] < right and top < other[3]
                        and other[1] < bottom)
        for marker in crowd:
            if marker.title != placed[i].text:
                assert not (left < marker.x + 3 and marker.x - 3 < right
                            and top < marker.y + 3 and marker.y - 3 < bottom)


def svg_texts(path: Path) -> list[str]:
    return ["".join(element.itertext()) for element in ElementTree.parse(path).iter()
            if element.tag.endswith("text")]


def test_the_sample_map_names_every_item_without_overlaps(sample_store: Path,
                                                           tmp_path: Path) -> None:
    write_plot(tmp_path / "map.svg", sample_store)
    names = [name for text in svg_texts(tmp_path / "map.svg") for name in text.split(", ")]
    items = [point.item for point in map_points(sample_store).points]
    assert len(items) == SAMPLE_ITEMS and set(items) <= set(names)
    scene = map_scene(map_points(sample_store))
    assert sorted(name for label in scene.labels for name in label.text.split(", ")) == sorted(
        items)
    boxes = [text_box(label) for label in scene.labels]
    for index, (left, top, right, bottom) in enumerate(boxes):
        for other in boxes[index + 1:]:
            assert not (left < other[2] and other[0] < right and top < other[3]
                        and other[1] < bottom)
        for marker in scene.markers:
            assert not (left < marker.x + marker.radius and marker.x - marker.radius < right
                        and top < marker.y + marker.radius and marker.y - marker.radius < bottom)


def test_coinciding_points_get_one_joint_label(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    same = rng.normal(size=4)
    vectors = np.vstack([same, same, same, same, rng.normal(size=(6, 4))])
    items = ["cat", "dog", "kitten", "puppy", "a", "b", "c", "d", "e", "f"]
    embedstore.publish_vectors(items, vectors, store=tmp_path / "store")
    write_plot(tmp_path / "map.svg", tmp_path / "store")
    texts = svg_texts(tmp_path / "map.svg")
    assert "cat, dog, kitten, puppy" in texts
    assert not {"cat", "dog", "kitten", "puppy"} & set(texts)
    assert {"a", "b", "c", "d", "e", "f"} <= set(texts)


def test_crowded_small_maps_name_every_dot_with_leader_lines() -> None:
    rng = np.random.default_rng(1)
    crowd = [Marker(float(x), float(y), 4, "#000", None, f"item{i}")
             for i, (x, y) in enumerate(rng.normal(300, 25, size=(60, 2)))]
    wanted = [Label(m.title, m.x, m.y, "start", 11, "#000") for m in crowd]
    placed, leaders = place_labels(crowd, wanted, (600, 600), leaders=True)
    names = sorted(name for label in placed for name in label.text.split(", "))
    assert names == sorted(m.title for m in crowd)
    assert len(leaders) > 10
    boxes = [text_box(label) for label in placed]
    for index, (left, top, right, bottom) in enumerate(boxes):
        assert left >= 0 and top >= 0 and right <= 600 and bottom <= 600
        for other in boxes[index + 1:]:
            assert not (left < other[2] and other[0] < right and top < other[3]
                        and other[1] < bottom)
    without, _ = place_labels(crowd, wanted, (600, 600))
    assert len(without) < len(crowd)


def _versions_for_diff(store: Path) -> list[str]:
    """Version 1: random vectors. Version 2: the same turned by a random rotation, except
    item x, which is replaced. Version 3: version 1 in 12 dimensions (cosines kept)."""
    rng = np.random.default_rng(5)
    items = [f"item{i}" for i in range(29)] + ["x"]
    first = rng.normal(size=(30, 8))
    rotation, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    second = first @ rotation
    second[-1] = rng.normal(size=8)
    wider, _ = np.linalg.qr(rng.normal(size=(12, 8)))
    for matrix in (first, second, first @ wider.T):
        embedstore.publish_vectors(items, matrix, store=store)
    return items


def test_diff_aligns_a_rotated_version_and_marks_the_item_that_moved(tmp_path: Path) -> None:
    items = _versions_for_diff(tmp_path / "store")
    moved = diff_map(tmp_path / "store", "default", 1, 2, "item0", k=29)
    assert {point.item for point in moved.points} == set(items)
    assert [point.item for point in moved.points if point.marked] == ["x"]
    for point in moved.points:
        assert point.old is not None and point.new is not None and point.moved is not None
        if point.item != "x":
            assert point.moved == pytest.approx(0, abs=1e-6)
            assert np.allclose(point.old, point.new, atol=1e-5)
    assert next(p for p in moved.points if p.item == "x").moved > 0.1
    wider = diff_map(tmp_path / "store", "default", 1, 3, "item0", k=5)
    assert not any(point.marked for point in wider.points)
    assert all(point.moved == pytest.approx(0, abs=1e-6) for point in wider.points)


def test_diff_picture_from_the_command_line(tmp_path: Path) -> None:
    _versions_for_diff(tmp_path / "store")
    output = tmp_path / "moved.svg"
    result = CliRunner().invoke(cli, ["--store", str(tmp_path / "store"), "plot", "-o",
                                      str(output), "--diff", "1", "2", "--around", "x",
                                      "--k", "5"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {output}: neighbourhood of x in default version "
                                    "1 -> 2, ")
    assert result.output.rstrip().endswith("moved most: x")
    texts = {"".join(e.itertext()) for e in ElementTree.parse(output).iter()
             if e.tag.endswith("text")}
    assert {"x", "version 1", "version 2", "moved most"} <= texts


def test_html_needs_no_matplotlib_and_png_says_what_to_install(
        sample_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    write_plot(tmp_path / "map.html", sample_store)
    assert "<svg" in (tmp_path / "map.html").read_text(encoding="utf-8")
    with pytest.raises(embedstore.EmbedstoreError, match=r"pip install 'embedstore\[plot\]'"):
        write_plot(tmp_path / "map.png", sample_store)
    assert not (tmp_path / "map.png").exists()


def test_the_command_line_starts_without_matplotlib_or_scikit_learn() -> None:
    check = ("import sys, embedstore_cli.main; "
             "print(sorted(m for m in ('matplotlib', 'sklearn') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_diff_tells_which_items_entered_and_left_the_neighbourhood(tmp_path: Path) -> None:
    _versions_for_diff(tmp_path / "store")
    moved = diff_map(tmp_path / "store", "default", 1, 2, "x", k=5)
    left = [p.item for p in moved.points if p.near_in_old and not p.near_in_new]
    entered = [p.item for p in moved.points if p.near_in_new and not p.near_in_old]
    assert left and entered
    assert sum(p.near_in_old for p in moved.points) == 6  # x and its 5 nearest
    page = render(moved, "html").decode()
    assert f"<title>{left[0]}: version 1 (among the 5 nearest in version 1 only)</title>" in page
    assert "(among the 5 nearest in version 2 only)</title>" in page


def test_items_are_named_in_either_unicode_spelling(tmp_path: Path,
                                                    write: Callable[..., Path]) -> None:
    """A map is a query like any other: ``around`` and a labels file's items may be written in
    NFD, and the map names items in NFC, as the store keeps them."""
    cafe_nfc, cafe_nfd = "caf\u00e9", "cafe\u0301"
    items = [cafe_nfc, "bar", "tea", "car", "bus"]
    vectors = np.array([[1, 0, 0], [0.9, 0.1, 0], [0.8, 0.2, 0], [0, 0, 1], [0, 0.1, 0.9]],
                       np.float32)
    for _ in range(2):
        embedstore.publish_vectors(items, vectors, store=tmp_path / "store")
    labels = write("labels.csv", f"{cafe_nfd},drinks\nbar,drinks\ncar,wheels\n")
    near = map_points(tmp_path / "store", around=cafe_nfd, k=2, labels=labels)
    assert near.around == cafe_nfc
    assert [(point.item, point.group) for point in near.points] == [
        (cafe_nfc, "drinks"), ("bar", "drinks"), ("tea", None)]
    moved = diff_map(tmp_path / "store", "default", 1, 2, cafe_nfd, k=2)
    assert moved.around == cafe_nfc and moved.points[0].item == cafe_nfc
