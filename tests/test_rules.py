"""Sea-area rules as data: the NSR admission criteria (class x area x ice conditions), seasons,
Canada's zones; a route needing escort lists each area and its miles, one not permitted is
refused naming the rule (exit 1), --ignore-rules plans it for studies and says so."""

from __future__ import annotations

import json
from datetime import date, datetime

import numpy as np
import pytest

from arcticroute import polaris
from arcticroute.errors import ConfigError
from arcticroute.grid import Grid
from arcticroute.route import rules
from arcticroute.static import StaticGrid

from .conftest import REPO, config_copy, make_roots, run_command

CODE = polaris.STAGE_CODES


@pytest.fixture(scope="module")
def table() -> rules.SeaRules:
    return rules.load(REPO / "config")


@pytest.mark.parametrize("ice_class, expected", [("PC1", "Arc9"), ("PC3", "Arc7"), ("PC5", "Arc5"), ("PC6", "Arc4"),
                                                 ("PC7", "Ice3"), ("Arc6", "Arc6"), ("arc4", "Arc4"), ("IA", "Ice3"),
                                                 ("1A Super", "Ice3"), ("IB", "Ice2"), ("IC", "Ice1"), ("none", "none"),
                                                 ("NIS", "none")])
def test_vessel_classes_map_to_the_rs_class_of_the_criteria(table, ice_class, expected):
    assert rules.rs_class(table, ice_class)[0] == expected


@pytest.mark.parametrize("lat, lon, area", [
    (70.5, 60.0, "kara_sw"), (72.0, 73.0, "kara_sw"), (79.0, 80.0, "kara_ne"), (77.8, 104.5, "laptev_w"),
    (75.0, 135.0, "laptev_e"), (73.0, 150.0, "ess_w"), (72.0, 170.0, "ess_e"), (68.0, -172.0, "chukchi"),
    (74.0, -95.0, "canada_arctic"), (72.0, -65.0, "canada_arctic"),
    (69.5, 57.0, None), (72.0, 50.0, None), (65.8, -168.46, None), (89.0, 0.0, None), (71.4, -156.5, None),
])
def test_regions_hold_their_seas_and_nothing_else(table, lat, lon, area):
    k = int(rules.region_index(table, np.array([lon]), np.array([lat]))[0])
    assert (table.regions[k].id if k >= 0 else None) == area


@pytest.mark.parametrize("sic, stage, expected", [
    (0.10, "thick_fy", "open water"), (0.5, "thin_fy_1", "light"), (0.9, "grey_white", "light"),
    (0.8, "medium_fy_thin", "medium"), (0.5, "thick_fy", "medium"), (0.8, "thick_fy", "heavy"),
    (0.5, "second_year", "heavy"), (0.3, "heavy_my", "light"),
])
def test_types_of_ice_conditions(table, sic, stage, expected):
    got = rules.ice_conditions(table, np.array([sic]), np.array([CODE[stage]]))
    assert rules.CONDITIONS[int(got[0])] == expected


@pytest.mark.parametrize("cls, area, condition, mode", [
    ("none", "kara_sw", "light", "escort"), ("none", "kara_sw", "medium", "not permitted"),
    ("none", "chukchi", "open water", "independent"), ("Ice1", "ess_e", "light", "independent"),
    ("Ice2", "kara_ne", "medium", "escort"), ("Ice2", "laptev_w", "medium", "not permitted"),
    ("Arc4", "ess_w", "heavy", "not permitted"), ("Arc5", "ess_w", "medium", "escort"),
    ("Arc5", "kara_sw", "medium", "independent"), ("Arc7", "ess_e", "heavy", "escort"),
    ("Arc9", "chukchi", "heavy", "independent"),
])
def test_the_criteria_table(table, cls, area, condition, mode):
    level, row = rules.nsr_mode(table, cls, area, rules.CONDITIONS.index(condition))
    assert rules.MODES[level] == mode and row["source"] in table.data["sources"]


@pytest.mark.parametrize("cls, day, barred", [
    ("none", date(2026, 11, 20), True), ("none", date(2026, 11, 15), False), ("none", date(2026, 7, 1), False),
    ("Ice2", date(2026, 6, 30), True), ("Ice3", date(2026, 2, 1), True), ("Arc4", date(2026, 2, 1), False),
    ("Arc5", date(2025, 12, 15), False),
])
def test_seasons_bar_non_ice_class_and_low_classes_from_16_november_to_30_june(table, cls, day, barred):
    assert (rules.season_refusal(table, "nsr", cls, [day]) is not None) is barred


def test_every_row_cites_a_source_the_docs_name(table):
    doc = (REPO / "docs" / "route-model.md").read_text()
    for key, source in table.data["sources"].items():
        assert key in doc, f"docs/route-model.md does not cite source {key}"
        assert source["title"].strip()
    for row in table.data["nsr_criteria"] + table.data["seasons"]:
        assert "checked" in row  # whether the row was compared with the text it cites is said


def _write_rules(tmp_path, old: str, new: str):
    folder = config_copy(tmp_path / "config")
    path = folder / rules.FILE_NAME
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return folder


@pytest.mark.parametrize("old, new, message", [
    ('independent: "---"', 'independent: "--x"', "nsr_criteria.0.independent"),
    ("source: nsr_rules_2017_text\n    checked: false\n  - class: Ice1", "source: nowhere\n    checked: false\n  - class: Ice1",
     "'nowhere' is not a key of sources"),
    ("  - class: Arc9\n    areas: all", "  - class: Arc9\n    areas: [kara_sw]", "no row for class Arc9 in"),
    ("schema_version: 1", "schema_version: 2", "schema_version"),
])
def test_a_bad_rules_table_is_a_config_error_naming_the_key(tmp_path, old, new, message):
    folder = _write_rules(tmp_path, old, new)
    with pytest.raises(ConfigError, match="sea_area_rules.yaml") as caught:
        rules.load(folder)
    assert message in str(caught.value)


@pytest.fixture(scope="module")
def static() -> StaticGrid:
    return StaticGrid.compute(Grid.from_km(25))


def test_outside_its_season_the_whole_nsr_is_closed_to_a_ship_without_ice_class(table, static):
    sic = np.zeros(static.grid.shape, np.float32)
    closed = rules.closed_cells(table, "none", date(2026, 11, 20), static.lon, static.lat, sic, None,
                                static.grid.resolution_m)
    (name, mask), = closed.items()
    assert "1 July to 15 November" in name and "2026-11-20" in name
    region = rules.region_index(table, static.lon, static.lat)
    nsr = np.isin(region, [k for k, r in enumerate(table.regions) if r.regime == "nsr"])
    assert (mask == nsr).all()
    assert rules.closed_cells(table, "none", date(2026, 9, 15), static.lon, static.lat, sic, None,
                              static.grid.resolution_m) == {}
    assert rules.closed_cells(table, "Arc4", date(2026, 11, 20), static.lon, static.lat, sic, None,
                              static.grid.resolution_m) == {}


def test_in_season_the_ice_the_criteria_forbid_is_closed_with_a_corridor_round_it(table, static):
    sic = np.zeros(static.grid.shape, np.float32)
    stage = np.zeros(static.grid.shape, np.int8)
    heavy = static.grid.index_of(74.0, 150.0)  # East Siberian Sea
    sic[heavy], stage[heavy] = 0.9, CODE["thick_fy"]
    (name, mask), = rules.closed_cells(table, "Arc4", date(2026, 9, 15), static.lon, static.lat, sic, stage,
                                       static.grid.resolution_m).items()
    assert "Arc4" in name and "heavy ice in the East Siberian Sea, western part" in name
    assert mask[heavy] and mask[heavy[0] + 2, heavy[1]] and not mask[heavy[0] + 6, heavy[1]]
    assert mask.sum() < 40


def _assess(table, ice_class, lats, lons, conditions, day=datetime(2026, 9, 15)):
    n = len(lats)
    return rules.assess(table, ice_class, np.array(lons, float), np.array(lats, float), np.full(n, 1852.0 * 10),
                        np.array([rules.CONDITIONS.index(c) for c in conditions]), [day] * n)


def test_a_route_needing_escort_lists_each_area_and_its_miles(table):
    found = _assess(table, "PC5", [74, 74, 74, 73, 73, 72], [100, 130, 131, 150, 151, 170],
                    ["medium", "medium", "light", "medium", "light", "light"])
    assert found["verdict"] == "escort"
    assert [a["id"] for a in found["areas"]] == ["kara_ne", "laptev_e", "ess_w", "ess_e"]
    assert found["escort_areas"] == ["East Siberian Sea, western part"] and found["escort_nm"] == 20.0
    assert found["areas"][2]["ice_conditions"] == "medium"  # the most severe of its steps
    assert found["steps"]["mode"].tolist() == [0, 0, 0, 1, 1, 0]
    assert any("permit" in n for n in found["notices"])


def test_a_route_the_criteria_forbid_names_the_rule(table):
    found = _assess(table, "Arc4", [73, 72], [150, 170], ["heavy", "light"])
    assert found["verdict"] == "not permitted"
    assert found["refused_by"] and "Arc4 in the East Siberian Sea, western part in heavy conditions" in found["refused_by"][0]


def test_canadian_waters_carry_their_notice_and_a_route_elsewhere_no_verdict(table):
    found = _assess(table, "PC5", [74, 74], [-95, -96], ["heavy", "heavy"])
    assert found["verdict"] == "independent" and found["areas"][0]["regime"] == "canada"
    assert any("Zone/Date" in n for n in found["notices"])
    assert _assess(table, "PC5", [60, 60], [0, 1], ["open water"] * 2)["verdict"] == "no rules apply"


# --- route.plan on the demo profile ---------------------------------------------------------

@pytest.fixture(scope="module")
def late_november(tmp_path_factory):
    made = make_roots(tmp_path_factory.mktemp("november"))
    for name, *args in (("ingest.nrt.pull", "--ym", "202611", "--since", "2026-11-29"), ("risk.fuse", "--ym", "202611")):
        result = run_command(name, *args, env=made.env)
        assert result.exit_code == 0, result.output
    return made


def test_an_open_water_ship_after_15_november_is_refused_naming_the_season_rule(late_november):
    result = run_command("route.plan", "--scenario", "murmansk_bering_open_water", "--date", "2026-11-29",
                         env=late_november.env)
    assert result.exit_code == 1
    assert "1 July to 15 November" in result.stderr and "--ignore-rules" in result.stderr
    document = json.loads(next((late_november.outputs / "routes").rglob("murmansk_bering_open_water_20261129.geojson"))
                          .read_text())
    assert document["arcticroute"]["status"] == "refused" and document["features"] == []
    every = run_command("route.plan", "--scenario", "all", "--date", "2026-11-29", env=late_november.env)
    assert every.exit_code == 0 and "murmansk_bering_open_water: REFUSED" in every.stdout


def test_a_pc5_ship_in_winter_is_refused_or_lists_escort_areas(late_november):
    result = run_command("route.plan", "--from", "69.1,33.42", "--to", "65.8,-168.46", "--vessel", "pc5_cargo",
                         "--date", "2026-11-29", env=late_november.env)
    document = json.loads(next((late_november.outputs / "routes").rglob("adhoc_*_20261129.geojson")).read_text())
    if result.exit_code == 1:
        assert document["arcticroute"]["status"] == "refused" and "NSR Rules" in result.stderr
        return
    assert result.exit_code == 0, result.output
    verdict = document["features"][0]["properties"]["rules"]
    assert verdict["verdict"] == "escort" and verdict["escort_nm"] > 0
    escorted = [a for a in verdict["areas"] if a["mode"] == "escort"]
    assert {a["name"] for a in escorted} == set(verdict["escort_areas"])
    assert sum(a["nm"] for a in escorted) == pytest.approx(verdict["escort_nm"], abs=0.2)
    segments = document["features"][0]["properties"]["segments"]
    assert sum(s.get("escort_nm", 0) for s in segments) == pytest.approx(verdict["escort_nm"], abs=1.0)
    assert any("icebreaker escort" in w for w in document["arcticroute"]["warnings"])
    assert "under escort" in result.stdout


def test_ignore_rules_plans_a_refused_voyage_and_says_so(late_november):
    """A PC7 ship (rated Ice3 by the criteria) may sail the late-November ice by POLARIS, but the
    NSR season closes the water area to it after 15 November: refused; planned for a study with
    --ignore-rules, the route says the rules were ignored and which ones."""
    args = ("route.plan", "--from", "72.5,135.0", "--to", "70.5,175.0", "--vessel", "pc7_cargo", "--date", "2026-11-29")
    refused = run_command(*args, env=late_november.env)
    assert refused.exit_code == 1, refused.output
    assert "REFUSED" not in refused.stdout and "1 July to 15 November" in refused.stderr
    assert "blocked by ice" not in refused.stderr  # the rules alone close it
    # ~2 kn in the late-November ice is beset risk on its own: the study assumes escort as well
    study = run_command(*args, "--ignore-rules", "--assume-escort", env=late_november.env)
    assert study.exit_code == 0, study.output
    document = json.loads(next((late_november.outputs / "routes").rglob("adhoc_*_20261129.geojson")).read_text())
    verdict = document["features"][0]["properties"]["rules"]
    assert verdict["ignored"] is True and verdict["verdict"] == "not permitted"
    assert all("1 July to 15 November" in rule for rule in verdict["refused_by"])
    assert any("IGNORED" in w for w in document["arcticroute"]["warnings"])
    assert "IGNORED" in study.stdout


def test_an_open_water_ship_at_the_ice_edge_in_september_is_not_routed_silently(summer_month):
    document = json.loads(next((summer_month.outputs / "routes").rglob("murmansk_bering_open_water_20260930.geojson"))
                          .read_text())
    if document["arcticroute"].get("status") in ("refused", "no-route"):
        assert document["arcticroute"]["reason"]
        return
    verdict = document["features"][0]["properties"]["rules"]
    assert verdict["areas"] and all(a["regime"] == "nsr" for a in verdict["areas"])
    assert all("ice_conditions" in a and "rule" in a for a in verdict["areas"])
    assert any("permit" in w for w in document["arcticroute"]["warnings"])


def test_the_report_and_the_ui_show_the_verdict_escort_miles_and_assumed_type_miles(late_november):
    from arcticroute import views
    from arcticroute.report import page as report_page

    result = run_command("route.plan", "--from", "69.1,33.42", "--to", "65.8,-168.46", "--vessel", "arc7_lng",
                         "--date", "2026-11-29", env=late_november.env)
    assert result.exit_code == 0, result.output
    document = json.loads(next((late_november.outputs / "routes").rglob("adhoc_*_20261129.geojson")).read_text())
    document["arcticroute"]["summary"]["assumed_type_basis_nm"] = {"multi-year climatology": 13.4}
    document["arcticroute"]["summary"]["assumed_type_nm"] = 13.4
    verdict = document["features"][0]["properties"]["rules"]
    html = report_page.table_html(report_page.rules_table([report_page.route_row(document)]))
    assert verdict["verdict"] in html and "13 nm (multi-year climatology 13)" in html
    for area in verdict["areas"]:
        assert area["name"] in html
    text = views.rules_verdict_text(document)
    assert f"Sea-area rules: {verdict['verdict']}" in text and "13 nm on assumed ice types" in text
    if verdict["escort_areas"]:
        assert f"{verdict['escort_nm']:,.0f} nm: " in html and "icebreaker escort for" in text
    assert [row["area"] for row in views.rules_rows(document)] == [a["name"] for a in verdict["areas"]]
    refused = {"type": "FeatureCollection", "features": [],
               "arcticroute": {"scenario": "s", "status": "refused", "reason": "NSR season <rule>", "date": "2026-11-29",
                               "vessel": {"name": "v", "ice_class": "none"}, "synthetic": True}}
    row = report_page.route_row(refused)
    assert row["status"] == "REFUSED"
    html = report_page.table_html(report_page.route_table([row])) + report_page.table_html(report_page.rules_table([row]))
    assert "REFUSED: NSR season &lt;rule&gt;" in html and "not permitted" in html
