"""The web page in a real headless browser: Chromium from the system's packages, driven by
selenium. Skipped only where no Chromium and chromedriver are installed."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import embedstore
from tests.conftest import DATA, ServerProcess

pytest.importorskip("fastapi", reason="the serve extra is not installed")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip("no browser: install Debian's chromium and chromium-driver packages "
                "(.ci/run does) to test the page", allow_module_level=True)


@pytest.fixture(scope="module")
def page_server(start_server: Callable[..., ServerProcess],
                tmp_path_factory: pytest.TempPathFactory) -> ServerProcess:
    store = tmp_path_factory.mktemp("page") / "store"
    embedstore.train_pairs(DATA / "sample.csv", store=store, quiet=True, name="first")
    with embedstore.open(store) as vectors:
        vectors.store.record_evaluation(vectors.info, "analogies",
                                        {"accuracy": 0.75, "correct": 3, "scored": 4})
    with embedstore.Store.open(store) as opened:
        opened.set_alias("default", 1, "prod")
    return start_server(store, "--workers", "1")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def rows(driver: object, table: str) -> list[list[str]]:
    from selenium.webdriver.common.by import By

    return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in driver.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr")]  # type: ignore[attr-defined]


def test_type_an_item_and_see_its_neighbours(browser: object, page_server: ServerProcess
                                             ) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    wait = WebDriverWait(driver, 20)
    driver.get(page_server.url + "/")  # type: ignore[attr-defined]
    wait.until(lambda d: d.find_element(By.ID, "model").get_attribute("value") == "default")
    wait.until(lambda d: len(rows(d, "evaluations")) == 1)
    metadata = driver.find_element(By.ID, "metadata").text  # type: ignore[attr-defined]
    assert "first" in metadata and "prod" in metadata
    assert "accuracy 0.7500 (3/4)" in rows(driver, "evaluations")[0][2]

    item = driver.find_element(By.ID, "item")  # type: ignore[attr-defined]
    item.send_keys("ca")
    wait.until(lambda d: {o.get_attribute("value") for o in
                          d.find_elements(By.CSS_SELECTOR, "#completions option")}
               >= {"cat", "car"})
    item.send_keys("t")
    k = driver.find_element(By.ID, "k")  # type: ignore[attr-defined]
    k.clear()
    k.send_keys("3")
    driver.find_element(By.CSS_SELECTOR, "#similar-form button").click()  # type: ignore[attr-defined]
    wait.until(lambda d: len(rows(d, "neighbours")) == 3)
    assert {row[0] for row in rows(driver, "neighbours")} == {"dog", "kitten", "puppy"}

    item.clear()
    item.send_keys("kitte")
    driver.find_element(By.CSS_SELECTOR, "#similar-form button").click()  # type: ignore[attr-defined]
    wait.until(lambda d: d.find_element(By.ID, "similar-error").text)
    assert "did you mean kitten" in driver.find_element(By.ID, "similar-error").text  # type: ignore[attr-defined]


def test_fill_an_analogy(browser: object, page_server: ServerProcess) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    wait = WebDriverWait(driver, 20)
    driver.get(page_server.url + "/")  # type: ignore[attr-defined]
    wait.until(lambda d: d.find_element(By.ID, "model").get_attribute("value") == "default")
    for field, word in (("a", "king"), ("b", "man"), ("c", "woman")):
        driver.find_element(By.ID, field).send_keys(word)  # type: ignore[attr-defined]
    driver.find_element(By.CSS_SELECTOR, "#analogy-form button").click()  # type: ignore[attr-defined]
    wait.until(lambda d: rows(d, "analogies"))
    assert rows(driver, "analogies")[0][0] == "queen"


def test_the_neighbourhood_of_the_item_searched_is_drawn_on_a_map(
        browser: object, page_server: ServerProcess) -> None:
    import httpx
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    wait = WebDriverWait(driver, 20)
    driver.get(page_server.url + "/")  # type: ignore[attr-defined]
    wait.until(lambda d: d.find_element(By.ID, "model").get_attribute("value") == "default")
    assert driver.find_elements(By.CSS_SELECTOR, "#map svg") == []  # type: ignore[attr-defined]
    driver.find_element(By.ID, "item").send_keys("cat")  # type: ignore[attr-defined]
    driver.find_element(By.CSS_SELECTOR, "#similar-form button").click()  # type: ignore[attr-defined]
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#map svg g.point"))

    expected = httpx.get(f"{page_server.url}/v1/models/default/map",
                         params={"around": "cat", "k": 50}).json()
    drawn = driver.find_elements(By.CSS_SELECTOR, "#map svg g.point")  # type: ignore[attr-defined]
    assert [g.get_attribute("data-item") for g in drawn] == [p["item"] for p in expected["points"]]
    assert drawn[0].find_element(By.TAG_NAME, "text").text.split(", ")[0] == "cat"
    assert "centre" in drawn[0].get_attribute("class")
    assert {"dog", "kitten", "puppy"} <= {g.get_attribute("data-item") for g in drawn[1:4]}
    xs = {round(float(g.find_elements(By.TAG_NAME, "circle")[-1].get_attribute("cx")))
          for g in drawn}
    assert len(xs) > 1  # the points are spread out, not piled on one spot
    caption = driver.find_element(By.ID, "map-caption").text  # type: ignore[attr-defined]
    assert caption.startswith(f"cat and its {len(drawn) - 1} nearest neighbours in default "
                              "version 1")

    item = driver.find_element(By.ID, "item")  # type: ignore[attr-defined]
    item.clear()
    item.send_keys("kitte")
    driver.find_element(By.CSS_SELECTOR, "#similar-form button").click()  # type: ignore[attr-defined]
    wait.until(lambda d: d.find_element(By.ID, "similar-error").text)
    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#map svg"))
    assert driver.find_element(By.ID, "map-caption").text == ""  # type: ignore[attr-defined]


def test_every_point_of_the_map_is_named_and_no_names_overprint(
        browser: object, page_server: ServerProcess, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    wait = WebDriverWait(driver, 20)
    driver.get(page_server.url + "/")  # type: ignore[attr-defined]
    wait.until(lambda d: d.find_element(By.ID, "model").get_attribute("value") == "default")
    driver.find_element(By.ID, "item").send_keys("he")  # type: ignore[attr-defined]
    driver.find_element(By.CSS_SELECTOR, "#similar-form button").click()  # type: ignore[attr-defined]
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#map svg g.point"))
    items = [g.get_attribute("data-item") for g in  # the whole sample: 47 neighbours
             driver.find_elements(By.CSS_SELECTOR, "#map svg g.point")]  # type: ignore[attr-defined]
    names = driver.execute_script(  # type: ignore[attr-defined]
        "return [...document.querySelectorAll('#map svg text')].map((t) => {"
        " const r = t.getBoundingClientRect();"
        " return [t.textContent, r.left, r.top, r.right, r.bottom]; })")
    driver.save_screenshot(str(tmp_path / "map.png"))  # type: ignore[attr-defined]
    assert len(items) == 48
    assert sorted(item for text, *_ in names for item in text.split(", ")) == sorted(items)
    for index, (text, left, top, right, bottom) in enumerate(names):
        assert right > left and bottom > top
        for other, *box in names[index + 1:]:
            assert not (left < box[2] - 0.5 and box[0] < right - 0.5
                        and top < box[3] - 0.5 and box[1] < bottom - 0.5), (text, other)
