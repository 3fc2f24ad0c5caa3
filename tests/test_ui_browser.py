"""The UI in a real browser: Debian's chromium driven by Playwright opens every page of a running
server, plans a route, and keeps a screenshot of each page under outputs/screenshots/."""

import os

import pytest

from .browser import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server, wait_until_finished
from .conftest import REPO, build_month, make_roots, run_command

SHOTS = REPO / "outputs" / "screenshots"
PAGES = ["overview", "route", "layers", "catalog", "logs"]


def _missing() -> str | None:
    if CHROMIUM is None:
        return "Debian's chromium is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


if _missing() and os.environ.get("CI") == "true":
    raise RuntimeError(f"CI must run the browser tests: {_missing()}")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(_missing() is not None, reason=str(_missing()))]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    made = make_roots(tmp_path_factory.mktemp("browser"))
    build_month(made, "202609", "2026-09-29")
    assert run_command("report.build", "--ym", "202609", env=made.env).exit_code == 0
    return made


@pytest.fixture(scope="module")
def served(built):
    proc, base = start_server(built.env)
    yield base
    stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_without_an_error(served, browser, name):
    page = browser.new_page(viewport={"width": 1400, "height": 2000})
    page.goto(f"{served}/{name}")
    wait_until_finished(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    if name != "logs":
        assert "DEMO DATA — NOT FOR NAVIGATION" in page.inner_text('[data-testid="stMain"]')
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.close()


def test_planning_a_route_in_the_browser(served, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 2000})
    page.goto(f"{served}/route")
    wait_until_finished(page)
    page.get_by_text("Ad-hoc end points").click()
    page.get_by_label("From (LAT,LON)").fill("71.0,40.0")
    page.get_by_label("To (LAT,LON)").fill("76.5,65.0")
    page.get_by_role("button", name="Plan route").click()
    try:
        page.wait_for_selector("text=(run ", timeout=90_000)
    finally:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "route_planned.png"), full_page=True)
    wait_until_finished(page)
    main = page.inner_text('[data-testid="stMain"]')
    assert "written" in main and page.locator('[data-testid="stPlotlyChart"]').count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(SHOTS / "route_planned.png"), full_page=True)
    page.close()


def test_the_route_page_reads_in_latitude_and_longitude_and_downloads_the_route(served, browser):
    from .rtz_check import check_rtz

    page = browser.new_page(viewport={"width": 1400, "height": 2000}, accept_downloads=True)
    page.goto(f"{served}/route")
    wait_until_finished(page)
    chart = page.locator('[data-testid="stPlotlyChart"]')
    chart.wait_for()
    texts = chart.locator("text").all_text_contents()
    assert {"70°N", "80°N", "90°E", "180°"} <= set(texts), texts  # the graticule's labels
    assert "Barents Sea" in texts  # a sea the route passes, named on the map
    # the cursor over the map shows latitude and longitude
    box = chart.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.55)
    page.wait_for_selector(".hoverlayer .hovertext", timeout=10_000)
    hover = " ".join(page.locator(".hoverlayer .hovertext").all_text_contents())
    assert "lat" in hover and "lon" in hover, hover
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "route_latlon.png"), full_page=True)
    saved = {}
    for label in ("RTZ (ECDIS)", "GPX", "CSV passage plan"):
        with page.expect_download() as download:
            page.get_by_role("button", name=f"Download {label}").click()
        saved[label] = download.value.path().read_bytes()
    rtz = check_rtz(saved["RTZ (ECDIS)"])
    assert "SYNTHETIC" in rtz["name"]
    assert saved["GPX"].count(b"<rtept") == len(rtz["waypoints"])
    assert saved["CSV passage plan"].count(b"\r\n") == len(rtz["waypoints"])  # header + one line a leg
    page.close()


# Each cell's longest word, measured in the cell's own font, against the cell's width: a word
# wider than its cell is a word broken letter by letter.
_BROKEN_WORDS = """() => {
  const canvas = document.createElement("canvas").getContext("2d");
  const broken = [];
  for (const cell of document.querySelectorAll("th, td")) {
    const style = getComputedStyle(cell);
    canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const inner = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    for (const word of cell.textContent.split(/\\s+/)) {
      if (word && canvas.measureText(word).width > inner + 1 && !cell.classList.contains("mono")) {
        broken.push(word);
      }
    }
  }
  return broken;
}"""


def test_the_report_with_its_passage_plans_is_legible_at_1400_px(built, browser):
    report = next(built.reports.rglob("report_202609.html"))
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(report.resolve().as_uri())
    headings = page.locator("h2").all_inner_texts()
    assert any(h.startswith("Passage plan: ") for h in headings), headings
    broken = page.evaluate(_BROKEN_WORDS)
    assert broken == [], broken
    plan = page.locator("section", has=page.locator("h2", has_text="Passage plan:")).first
    assert plan.locator("tbody tr").count() >= 2
    SHOTS.mkdir(parents=True, exist_ok=True)
    plan.screenshot(path=str(SHOTS / "report_passage_plan.png"))
    page.close()
