"""report.build over a real demo month: pull -> fuse -> route -> report, in temporary data roots."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import struct
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from arcticroute import report_html, report_inputs
from arcticroute.artifacts import artifact_meta_schema, existing_versions, meta_path_for
from arcticroute.config import load_settings

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
YM = "202609"
REPORT_RELPATH = f"3413-25km/{YM}/report_{YM}.html"
EMPTY_YM = "202601"


def load_main(script: str):
    """The click command of ``scripts/<script>``, imported from its file."""
    path = SCRIPTS / script
    spec = importlib.util.spec_from_file_location(f"test_report_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def invoke(script: str, *args: str):
    return CliRunner().invoke(load_main(script), list(args), catch_exceptions=False)


def point_settings_at(mp: pytest.MonkeyPatch, base: Path) -> dict[str, Path]:
    roots = {"data": base / "data_processed", "reports": base / "reports", "outputs": base / "outputs"}
    for name, key in (("DATA", "data"), ("REPORTS", "reports"), ("OUTPUTS", "outputs")):
        mp.setenv(f"ARCTICROUTE_{name}", str(roots[key]))
    mp.setenv("ARCTICROUTE_PROFILE", "demo")
    for name in ("ARCTICROUTE_GRID_KM", "ARCTICROUTE_CONFIG_DIR", "ARCTICROUTE_ALERT_WEBHOOK"):
        mp.delenv(name, raising=False)
    return roots


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """A demo month built once; the first and second report.build results are kept."""
    with pytest.MonkeyPatch.context() as mp:
        roots = point_settings_at(mp, tmp_path_factory.mktemp("report"))
        for script, *args in (
            ("ingest_nrt_pull.py", "--ym", YM, "--since", "2026-09-28"),
            ("risk_fuse.py", "--ym", YM),
            ("route_plan.py", "--scenario", "all", "--date", "latest"),
        ):
            result = invoke(script, *args)
            assert result.exit_code == 0, f"{script} failed: {result.output}"
        first = invoke("report_build.py", "--ym", YM)
        second = invoke("report_build.py", "--ym", YM)
        versions_after_second = sorted(existing_versions(roots["reports"] / REPORT_RELPATH))
        yield {"roots": roots, "first": first, "second": second, "versions_after_second": versions_after_second,
               "settings": load_settings()}


@pytest.fixture
def page(month) -> str:
    return (month["roots"]["reports"] / REPORT_RELPATH).read_text(encoding="utf-8")


@pytest.fixture
def sidecar(month) -> dict:
    return json.loads(meta_path_for(month["roots"]["reports"] / REPORT_RELPATH).read_text(encoding="utf-8"))


def test_report_is_written_and_its_path_printed(month):
    first = month["first"]
    assert first.exit_code == 0, first.output
    path = month["roots"]["reports"] / REPORT_RELPATH
    assert path.is_file()
    assert f"report: {path}\n" in first.stdout
    assert first.stdout.splitlines()[1].startswith("written: version 1")


def test_report_is_self_contained(page):
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    references = re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)""", page, flags=re.IGNORECASE)
    assert references, "the page embeds its figure"
    assert all(ref.startswith("data:") for ref in references), references
    assert "url(" not in page  # no CSS fetches either


def test_report_embeds_the_map_as_a_png(page):
    match = re.search(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert match
    png = base64.b64decode(match[1], validate=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (990, 630)  # 11 x 7 in at 90 dpi


def test_report_shows_the_demo_banner_first(page):
    body = page.split("<body>", 1)[1]
    assert body.startswith('<div class="banner"')
    assert "demo data — not for navigation" in body[:500]
    assert "synthetic" in body[:500] and "demo" in body[:500]


def test_report_lists_every_scenario_and_section(page, month):
    for name in month["settings"].scenarios["scenarios"]:
        assert name in page
    for heading in ("Routes", "Route explanation", "Calibration", "Data freshness", "Provenance", "Recent runs"):
        assert f"<h2>{heading}</h2>" in page
    for layer in report_inputs.DAILY_LAYERS:
        assert f"<td>{layer}</td><td>2026-09-30</td>" in page
    assert "Yokohama" in page  # the onward leg's final destination


def test_sidecar_validates_and_cites_every_input(sidecar, month):
    jsonschema.validate(sidecar, artifact_meta_schema())
    assert sidecar["synthetic"] is True
    assert sidecar["logical_id"] == f"ar://report/monthly@{YM}?grid=3413-25km"
    assert sidecar["kind"] == "report"
    assert sidecar["path"] == f"3413-25km/{YM}/report_{YM}_adv_v1.html"
    assert sidecar["time_coverage"] == {"start": "2026-09-01T00:00:00Z", "end": "2026-09-30T23:59:59Z"}
    cited = {i["logical_id"] for i in sidecar["inputs"]}
    grid = month["settings"].grid.name
    expected = {f"ar://risk/monthly@{YM}?grid={grid}", f"ar://static/grid@{grid}",
                f"ar://risk/daily@20260930?grid={grid}", f"ar://env/ice.sic@20260930?grid={grid}"}
    expected |= {f"ar://route/{name}@20260930?grid={grid}" for name in month["settings"].scenarios["scenarios"]}
    assert expected <= cited
    assert sidecar["params"]["inputs_digest"] == report_inputs.inputs_digest(
        [{"logical_id": i["logical_id"], "sha256": i["sha256"]} for i in sidecar["inputs"]],
        tuple(sidecar["params"]["include"]))
    assert sidecar["params"]["include"] == ["routes", "layers", "calibration", "freshness", "runs"]


def test_second_build_writes_nothing(month):
    second = month["second"]
    assert second.exit_code == 0, second.output
    assert "unchanged: version 1" in second.stdout
    assert month["versions_after_second"] == [1]


def test_month_without_data_fails_with_a_hint(month, monkeypatch):
    roots = point_settings_at(monkeypatch, month["roots"]["data"].parent)
    result = invoke("report_build.py", "--ym", EMPTY_YM)
    assert result.exit_code == 1
    assert "no monthly risk layer for 2026-01" in result.stderr
    assert "ingest.nrt.pull" in result.stderr and "risk.fuse" in result.stderr
    assert not (roots["reports"] / EMPTY_YM).exists()


def test_a_new_route_makes_a_new_version(month, monkeypatch):
    """Changed inputs are not "unchanged": an ad-hoc route in the month gives version 2."""
    roots = point_settings_at(monkeypatch, month["roots"]["data"].parent)
    planned = invoke("route_plan.py", "--from", "72.0,30.0", "--to", "75.0,50.0", "--vessel", "arc7_lng")
    assert planned.exit_code == 0, planned.output
    rebuilt = invoke("report_build.py", "--ym", YM)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "written: version 2" in rebuilt.stdout
    page = (roots["reports"] / REPORT_RELPATH).read_text(encoding="utf-8")
    assert re.search(r"<td>adhoc_[0-9a-f]{8}</td>", page)


def test_include_chooses_the_sections_and_a_bad_one_is_bad_usage(month, monkeypatch):
    roots = point_settings_at(monkeypatch, month["roots"]["data"].parent)
    bad = invoke("report_build.py", "--ym", YM, "--include", "routes,weather")
    assert bad.exit_code == 2 and "expected a comma-separated list of routes, layers, calibration" in bad.output
    some = invoke("report_build.py", "--ym", YM, "--include", "routes,calibration")
    assert some.exit_code == 0, some.output
    page = (roots["reports"] / REPORT_RELPATH).read_text(encoding="utf-8")
    assert "<h2>Routes</h2>" in page and "<h2>Data freshness</h2>" not in page and "<h2>Recent runs</h2>" not in page
    assert "data:image/png" not in page  # no map without "layers"
    assert "risk is not a probability of incidents" in page  # a weighted month has nothing to calibrate


# -- pure parts -----------------------------------------------------------------------------------

def test_inputs_digest_ignores_order_and_sees_content():
    a = {"logical_id": "ar://env/ice.sic@20260930", "sha256": "1" * 64}
    b = {"logical_id": "ar://risk/monthly@202609", "sha256": "2" * 64}
    assert report_inputs.inputs_digest([a, b]) == report_inputs.inputs_digest([b, a])
    assert report_inputs.inputs_digest([a, b]) != report_inputs.inputs_digest([a, {**b, "sha256": "3" * 64}])
    assert report_inputs.inputs_digest([a, b]) != report_inputs.inputs_digest([a])


def test_no_route_document_is_shown_with_its_reason_escaped():
    document = {
        "type": "FeatureCollection",
        "features": [],
        "arcticroute": {"scenario": "laptev_<winter>", "status": "no-route",
                        "reason": "sea ice 0.95 > vessel limit 0.4 & no way round",
                        "vessel": {"name": "ice1a_bulk", "ice_class": "1A"}, "date": "2026-02-01",
                        "synthetic": True},
    }
    row = report_html.route_row(document)
    assert row["status"] == "NO ROUTE" and row["reason"].startswith("sea ice 0.95")
    table = report_html.route_table_html([row])
    assert "NO ROUTE: sea ice 0.95 &gt; vessel limit 0.4 &amp; no way round" in table
    assert "laptev_&lt;winter&gt;" in table and "<winter>" not in table
    assert '<tr class="bad">' in table
