"""The headless Chromium the browser tests run on renders pages and runs their scripts."""

import pyvips
from playwright.sync_api import Page

RED = (255, 0, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)
PAGE = """<!doctype html>
<style>
  html, body { margin: 0; background: #fff; }
  #box { position: absolute; left: 100px; top: 60px; width: 40px; height: 40px; background: #f00; }
</style>
<div id="box"></div>
"""


def _screenshot(page: Page) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(page.screenshot(), "")


def _colour(image: pyvips.Image, x: int, y: int) -> tuple[int, ...]:
    return tuple(int(value) for value in image.getpoint(x, y)[:3])


def test_renders_a_box_where_the_page_puts_it(page: Page) -> None:
    page.set_content(PAGE)

    shot = _screenshot(page)

    assert (shot.width, shot.height) == (1280, 800)
    assert _colour(shot, 100, 60) == RED  # the box's top-left pixel
    assert _colour(shot, 139, 99) == RED  # and its bottom-right one
    assert _colour(shot, 99, 80) == WHITE  # just left of it
    assert _colour(shot, 140, 80) == WHITE  # just right of it
    assert _colour(shot, 120, 100) == WHITE  # just below it


def test_runs_the_page_script_and_renders_what_it_changed(page: Page) -> None:
    page.set_content(PAGE)

    box = page.evaluate(
        """() => {
            const box = document.getElementById("box");
            box.style.background = "rgb(0, 0, 255)";
            const { x, y, width, height } = box.getBoundingClientRect();
            return { x, y, width, height, sum: [1, 2, 3].reduce((a, b) => a + b) };
        }"""
    )

    assert box == {"x": 100, "y": 60, "width": 40, "height": 40, "sum": 6}
    assert _colour(_screenshot(page), 120, 80) == BLUE
