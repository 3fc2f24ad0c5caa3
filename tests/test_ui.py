"""The Streamlit UI through Streamlit's own AppTest: every page, empty and with demo data."""

import os
import re

import pytest
from streamlit.testing.v1 import AppTest

from arcticroute import views
from arcticroute.config import load_settings

from .conftest import REPO, build_month, make_roots, run_command

APP = str(REPO / "apps" / "app_min.py")
PAGES = ["ui_pages/overview.py", "ui_pages/route.py", "ui_pages/layers.py", "ui_pages/catalog.py", "ui_pages/logs.py"]
BANNER = "DEMO DATA — NOT FOR NAVIGATION"


@pytest.fixture(scope="module")
def demo_roots(tmp_path_factory):
    made = make_roots(tmp_path_factory.mktemp("ui"))
    build_month(made, "202609", "2026-09-29")
    assert run_command("report.build", "--ym", "202609", env=made.env).exit_code == 0
    return made


def _page(page: str, env: dict, monkeypatch) -> AppTest:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("ARCTICROUTE_GRID_KM", "ARCTICROUTE_CONFIG_DIR"):
        monkeypatch.delenv(key, raising=False)
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page(page)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _texts(elements) -> list[str]:
    return [e.value for e in elements]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_with_an_empty_data_folder_says_what_to_run(page, roots, monkeypatch):
    app = _page(page, roots.env, monkeypatch)
    hints = " ".join(_texts(app.info))
    assert "just demo" in hints or "No logs yet" in hints
    assert not app.get("plotly_chart")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_with_demo_data_shows_the_banner_and_its_elements(page, demo_roots, monkeypatch):
    app = _page(page, demo_roots.env, monkeypatch)
    assert not app.error, _texts(app.error)
    if page != "ui_pages/logs.py":
        assert any(BANNER in text for text in _texts(app.warning)), page
    expected = {"ui_pages/overview.py": "dataframe", "ui_pages/route.py": "plotly_chart", "ui_pages/layers.py": "plotly_chart",
                "ui_pages/catalog.py": "dataframe", "ui_pages/logs.py": "code"}[page]
    assert app.get(expected), f"{page} has no {expected}"


def test_planning_in_the_page_writes_the_route_like_route_plan(demo_roots, monkeypatch):
    app = _page("ui_pages/route.py", demo_roots.env, monkeypatch)
    app.radio[0].set_value("Ad-hoc end points")
    app.text_input[0].set_value("72.0,35.0")
    app.text_input[1].set_value("76.0,60.0")
    app.selectbox[1].set_value("arc7_lng")
    app.button[0].click()
    app.run()
    assert not app.exception and not app.error, _texts(app.error)
    assert any("written" in text for text in _texts(app.caption))
    assert app.get("plotly_chart") and app.get("download_button")
    stats = app.dataframe[0].value
    assert list(stats.columns) == ["", "route", "baseline"] and "distance (nm)" in list(stats[""])
    assert "days on persisted conditions" in list(stats[""]) and "days on the ice forecast" in list(stats[""])
    assert any(re.search(r"Sailed in the daily layers to \d{4}-\d\d-\d\d, then no ice forecast; [\d.]+ days on "
                         "persisted conditions", text) for text in _texts(app.caption))
    plan = app.dataframe[-1].value  # the passage plan, leg by leg (after the stats and the sea areas entered)
    assert {"from_position", "course_true_deg", "eta_utc", "polaris_operation"} <= set(plan.columns)
    assert plan["from_position"].str.match(r"^\d{2}°\d{2}\.\d{2}'N \d{3}°\d{2}\.\d{2}'[EW]$").all()
    labels = [b.proto.label for b in app.get("download_button")]
    assert labels == ["Download GeoJSON", "Download RTZ (ECDIS)", "Download GPX", "Download CSV passage plan"]
    assert any(text.startswith("Passes: Barents Sea") for text in _texts(app.markdown))
    records = list((demo_roots.outputs / "runs").glob("*.json"))
    assert any('"ui"' in path.read_text() for path in records)  # the page's run has its record


def test_a_corrupt_layer_is_shown_as_such_and_never_drawn(demo_roots, monkeypatch, tmp_path):
    monkeypatch.setenv("ARCTICROUTE_DATA", str(demo_roots.data))
    settings = load_settings()
    day = views.layer_days(settings, "wave.hs")[-1]
    meta = views.layer_meta(settings, "wave.hs", day)
    path = demo_roots.data / meta["path"]
    original = path.read_bytes()
    warm = _page("ui_pages/layers.py", demo_roots.env, monkeypatch)
    warm.radio[0].set_value("wave.hs")
    warm.run()
    assert warm.get("plotly_chart")  # cached by its sha256 now
    try:
        with open(path, "r+b") as handle:
            handle.seek(100)
            handle.write(b"\x00corrupt\x00")
        app = _page("ui_pages/layers.py", demo_roots.env, monkeypatch)
        app.radio[0].set_value("wave.hs")
        app.run()  # drawn before? then it is in the cache by sha256, and must still be refused
        errors = " ".join(_texts(app.error))
        assert "wave.hs" in errors and "sha256" in errors
        assert any("just repair" in text for text in _texts(app.info))
        assert not app.get("plotly_chart")
    finally:
        path.write_bytes(original)
        os.utime(path)


def test_catalog_search_and_verify_button(demo_roots, monkeypatch):
    app = _page("ui_pages/catalog.py", demo_roots.env, monkeypatch)
    app.text_input[0].set_value("ice.sic")
    app.run()
    assert all("ice.sic" in row for row in app.dataframe[0].value["logical_id"])
    assert set(app.dataframe[0].value["license"]) == {"no third-party data: fields generated by ArcticRoute's demo profile"}
    app.button[0].click()
    app.run()
    assert any("every version matches its sidecar" in text for text in _texts(app.success))


def test_large_grids_are_downsampled_for_display():
    assert views.stride_for((1792, 1216)) == 4 and views.stride_for((448, 304)) == 1
