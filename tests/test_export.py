"""Route exports for the bridge (issue 21): RTZ 1.1/1.0 checked by an independent reader against
the published structure, GPX read by gpxpy, the CSV passage plan; the waypoints are the route
document's own positions, every leg a great circle within the deviation of the planned line."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from datetime import UTC, date, datetime, timedelta

import gpxpy
import jsonschema
import numpy as np
import pytest

from arcticroute.errors import ArcticRouteError
from arcticroute.grid import Grid
from arcticroute.route import export, geometry, passage, planner, routing
from arcticroute.route.routing import Conditions, Place, Vessel
from arcticroute.static import StaticGrid
from arcticroute.store.artifacts import artifact_meta_schema, current_meta
from arcticroute.store.integrity import read_bytes

from .conftest import make_roots, run_command
from .rtz_check import check_rtz

ROUTES = "routes/3413-25km"
POSITION = re.compile(r"^\d{2}°\d{2}\.\d{2}'[NS] \d{3}°\d{2}\.\d{2}'[EW]$")


def route_vertices(document: dict) -> np.ndarray:
    feature = passage.route_feature(document)
    geom = feature["geometry"]
    parts = [geom["coordinates"]] if geom["type"] == "LineString" else geom["coordinates"]
    return np.asarray([p for part in parts for p in part], dtype=float)


def same_place(a_lon, a_lat, b_lon, b_lat, tol=1e-6) -> bool:
    return abs(a_lat - b_lat) <= tol and (abs(a_lon - b_lon) <= tol or abs(abs(a_lon - b_lon) - 360) <= tol)


def distance_to_orthodrome_m(start, end, points: np.ndarray) -> float:
    """Largest distance of ``points`` (lon, lat) from the great circle between start and end,
    measured against the geodesic sampled every 200 m (independent of the exporter's formula)."""
    _az, _back, length = geometry.GEOD.inv(start[0], start[1], end[0], end[1])
    n = max(int(length / 200.0), 1)
    line = np.asarray([start, *geometry.GEOD.npts(start[0], start[1], end[0], end[1], n), end])
    worst = 0.0
    for lon, lat in points:
        _a, _b, d = geometry.GEOD.inv(np.full(len(line), lon), np.full(len(line), lat), line[:, 0], line[:, 1])
        worst = max(worst, float(np.min(d)))
    return worst


def check_against_document(document: dict, rtz: dict) -> None:
    vertices = route_vertices(document)
    times = {}
    props = passage.route_feature(document)["properties"]["coordinateProperties"]
    flat_times = props["times"] if isinstance(props["times"][0], str) else [t for p in props["times"] for t in p]
    for (lon, lat), moment in zip(vertices, flat_times, strict=True):
        times.setdefault((round(lon, 6), round(lat, 6)), moment)
    # every waypoint is a vertex of the GeoJSON route line, in order, the ends the given end points
    indices = []
    for w in rtz["waypoints"]:
        hits = [i for i, (lon, lat) in enumerate(vertices) if same_place(lon, lat, w["lon"], w["lat"])]
        assert hits, f"waypoint {w} is not a vertex of the route line"
        indices.append(min(h for h in hits if not indices or h >= indices[-1]))
    assert indices == sorted(indices) and indices[0] == 0 and indices[-1] == len(vertices) - 1
    info = document["arcticroute"]
    assert same_place(rtz["waypoints"][0]["lon"], rtz["waypoints"][0]["lat"], info["from"]["lon"], info["from"]["lat"])
    assert same_place(rtz["waypoints"][-1]["lon"], rtz["waypoints"][-1]["lat"], info["to"]["lon"], info["to"]["lat"])
    # each leg is a great circle that stays within the deviation of the line's vertices between
    for (a, b), w0, w1 in zip(zip(indices[:-1], indices[1:], strict=True), rtz["waypoints"][:-1],
                              rtz["waypoints"][1:], strict=True):
        between = vertices[a + 1:b]
        between = between[np.abs(np.abs(between[:, 0]) - 180.0) > 1e-9]  # not the antimeridian cut points
        if len(between):
            off = distance_to_orthodrome_m((w0["lon"], w0["lat"]), (w1["lon"], w1["lat"]), between)
            assert off <= passage.MAX_DEVIATION_NM * 1852 + 60, f"leg {w0['id']}->{w1['id']} strays {off:.0f} m"
    # the schedule gives each waypoint the time the voyage reaches it
    for w in rtz["waypoints"]:
        expected = times[(round(w["lon"], 6), round(w["lat"], 6))]
        assert rtz["schedule"][w["id"]] == datetime.fromisoformat(expected.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def planned(summer_month):
    """The route documents of every scenario on the summer month's newest day and their RTZ."""
    out = {}
    for meta_file in sorted((summer_month.outputs / ROUTES).glob("*.geojson.meta.json")):
        if "_adv_v" in meta_file.name:
            continue
        relpath = f"{ROUTES}/{meta_file.name.removesuffix('.meta.json')}"
        roots = {"data": summer_month.data, "outputs": summer_month.outputs, "reports": summer_month.reports}
        meta = current_meta(roots, "outputs", relpath)
        document = json.loads(read_bytes(roots, meta))
        rtz_meta = current_meta(roots, "outputs", relpath.replace(".geojson", ".rtz"))
        out[document["arcticroute"]["scenario"]] = (document, meta, rtz_meta,
                                                    read_bytes(roots, rtz_meta) if rtz_meta else None)
    assert len(out) >= 3
    return out


def test_route_plan_writes_an_rtz_of_every_route_that_an_independent_reader_accepts(planned):
    for name, (document, meta, rtz_meta, data) in planned.items():
        if not passage.has_route(document):
            assert rtz_meta is None
            continue
        assert rtz_meta is not None, f"{name}: no RTZ beside the route"
        assert rtz_meta["inputs"] == [{"logical_id": meta["logical_id"], "sha256": meta["sha256"],
                                       "source_url": None}]
        assert rtz_meta["synthetic"] is True and "synthetic" in rtz_meta["tags"]
        jsonschema.validate(rtz_meta, artifact_meta_schema())
        rtz = check_rtz(data)
        assert rtz["version"] == "1.1"
        assert "SYNTHETIC" in rtz["name"] and name in rtz["name"]
        check_against_document(document, rtz)
        assert data == export.to_rtz(passage.passage_plan(document))  # a rendering of the document, no more


def test_each_leg_states_its_depth_escort_and_persisted_conditions(planned):
    """The passage plan's voyage fields agree with the route document: the shallowest leg is the
    route's minimum depth, escort legs lie in the areas the rules escort, persisted legs sail past
    the data; the RTZ carries draught and safety depth in its standard leg fields."""
    import xml.etree.ElementTree as ET

    checked = 0
    for name, (document, _meta, _rtz_meta, data) in planned.items():
        if not passage.has_route(document):
            continue
        route = passage.route_feature(document)["properties"]
        plan = passage.passage_plan(document)
        depths = [leg.min_depth_m for leg in plan.legs if leg.min_depth_m is not None]
        if route.get("min_depth_m") is not None:
            assert min(depths) == pytest.approx(route["min_depth_m"], abs=0.05), name
        if route.get("required_depth_m") is not None:
            assert all(d >= route["required_depth_m"] for d in depths), name
        escort_areas = set((route.get("rules") or {}).get("escort_areas") or [])
        assert any(leg.escort for leg in plan.legs) == bool(escort_areas), name
        assert any(leg.persisted for leg in plan.legs) == (route["persistence_days"] > 0), name
        rows = export.passage_rows(plan)
        assert [r["min_depth_m"] for r in rows] == [leg.min_depth_m for leg in plan.legs]
        assert {r["escort_required"] for r in rows} <= {True, False} and {r["persisted_conditions"] for r in rows} <= {
            True, False}
        legs = [e for e in ET.fromstring(data).iter() if e.tag == f"{{{export.RTZ_NAMESPACES['1.1']}}}leg"]
        vessel = document["arcticroute"]["vessel"]
        if vessel.get("draught_m") is not None:
            assert {e.get("draughtForward") for e in legs} == {f"{vessel['draught_m']:.2f}"}
            assert {e.get("safetyDepth") for e in legs} == {f"{route['required_depth_m']:.2f}"}
            assert all(float(e.get("safetyDepth")) > float(e.get("draughtAft")) for e in legs)
        else:
            assert all(e.get("safetyDepth") is None and e.get("draughtForward") is None for e in legs)
        checked += 1
    assert checked >= 2


def test_a_document_planned_before_the_voyage_fields_still_exports(planned):
    """Routes planned by an earlier release have no per-point depth, escort or persisted flags nor
    a draught: their legs say so (None, '—' in the report), nothing is made up."""
    document = json.loads(json.dumps(planned["sabetta_rotterdam"][0]))
    route = passage.route_feature(document)["properties"]
    for key in ("depth_m", "escort", "persisted"):
        route["coordinateProperties"].pop(key)
    for key in ("draught_m", "required_depth_m"):
        route.pop(key, None)
    plan = passage.passage_plan(document)
    assert all(leg.min_depth_m is None and leg.escort is None and leg.persisted is None for leg in plan.legs)
    assert b"safetyDepth" not in export.to_rtz(plan)


def test_a_route_across_the_antimeridian_keeps_longitudes_in_range(planned):
    document, _meta, _rtz_meta, data = planned["murmansk_bering"]
    assert passage.route_feature(document)["geometry"]["type"] == "MultiLineString"
    lons = [w["lon"] for w in check_rtz(data)["waypoints"]]
    assert min(lons) < -160 and max(lons) > 100 and all(-180 <= lon < 180 for lon in lons)


def test_rtz_10_gpx_and_csv_say_the_same_as_the_rtz(planned):
    document = planned["murmansk_bering"][0]
    plan = passage.passage_plan(document)
    rtz11 = check_rtz(export.render(plan, "rtz"))
    rtz10 = check_rtz(export.render(plan, "rtz10"))
    assert rtz10["version"] == "1.0" and rtz10["waypoints"] == rtz11["waypoints"]
    assert rtz10["schedule"] == rtz11["schedule"]
    gpx = gpxpy.parse(export.render(plan, "gpx").decode("utf-8"))
    (route,) = gpx.routes
    assert [(p.latitude, p.longitude) for p in route.points] == [(w["lat"], w["lon"]) for w in rtz11["waypoints"]]
    assert [p.time.astimezone(UTC) for p in route.points] == [rtz11["schedule"][w["id"]] for w in rtz11["waypoints"]]
    assert "SYNTHETIC" in route.name
    rows = list(csv.DictReader(io.StringIO(export.render(plan, "csv").decode("utf-8"))))
    assert len(rows) == len(rtz11["waypoints"]) - 1
    assert all(POSITION.match(r["from_position"]) and POSITION.match(r["to_position"]) for r in rows)
    assert [float(r["cumulative_nm"]) for r in rows] == sorted(float(r["cumulative_nm"]) for r in rows)
    total = sum(float(r["distance_nm"]) for r in rows)
    assert total == pytest.approx(passage.route_feature(document)["properties"]["distance_nm"], rel=2e-3)
    assert all(r["synthetic"] == "True" and r["polaris_operation"] in ("normal", "elevated risk") for r in rows)
    assert {r["eta_utc"] for r in rows} <= {t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in rtz11["schedule"].values()}


def test_reading_an_rtz_back_gives_the_same_waypoints(planned):
    plan = passage.passage_plan(planned["sabetta_rotterdam"][0])
    for fmt in ("rtz", "rtz10"):
        back = export.read_rtz(export.render(plan, fmt))
        assert [(w.id, w.name, w.lat, w.lon, w.time) for w in back] == \
               [(w.id, w.name, round(w.lat, 6), round(w.lon, 6), w.time) for w in plan.waypoints]


def test_degrees_and_decimal_minutes():
    assert passage.position_text(71.0541667, 24.7016667) == "71°03.25'N 024°42.10'E"
    assert passage.position_text(-0.5, -168.46) == "00°30.00'S 168°27.60'W"
    assert passage.position_text(65.99999999, 0.0) == "66°00.00'N 000°00.00'E"  # minutes never read 60


@pytest.fixture(scope="module")
def open_static() -> StaticGrid:
    return StaticGrid.compute(Grid.from_km(25))


def ice_free(static: StaticGrid) -> Conditions:
    zero = np.zeros(static.grid.shape, dtype=np.float32)
    return Conditions(sic=zero, hs=zero + 1.0, risk=zero, stage=None)


def test_a_route_passing_within_a_degree_of_the_pole(open_static):
    vessel = Vessel("pc1", "PC1", speed_kn=12)
    origin, destination = Place("north of Svalbard", 84.0, 15.0), Place("north of Wrangel", 84.0, -165.0)
    conditions = ice_free(open_static)
    route, baseline, _ = routing.plan_path(open_static, conditions, vessel, origin, destination, 0.0)
    request = planner.RouteRequest("polar", origin, destination, vessel)
    document = planner.build_geojson(open_static, conditions, request, date(2026, 8, 1), route, baseline, [], False,
                                     "run", 0.0)
    vertices = route_vertices(document)
    assert vertices[:, 1].max() > 89.0
    for fmt in ("rtz", "rtz10"):
        rtz = check_rtz(export.render(passage.passage_plan(document), fmt))
        check_against_document(document, rtz)
        assert "SYNTHETIC" not in rtz["name"]


def test_a_route_too_large_for_an_ecdis_import_is_refused_naming_the_size():
    start = datetime(2026, 9, 1, tzinfo=UTC)
    waypoints = [passage.Waypoint(i + 1, f"WP{i + 1}", 70.0 + i * 1e-3, 20.0 + i * 1e-2, start + timedelta(hours=i))
                 for i in range(3000)]
    legs = [passage.Leg(i, a, b, 45.0, 1.0, float(i), 1.0, 1.0, 0.0, 0.0, "ice free", 30.0, "normal", 1.0)
            for i, (a, b) in enumerate(zip(waypoints[:-1], waypoints[1:], strict=True), start=1)]
    plan = passage.Passage("long", "2026-09-01", {"name": "v", "ice_class": "PC5", "speed_kn": 12}, False, None,
                           ["2026-09-01"], waypoints, legs, 0.05, {"run_id": "x"})
    with pytest.raises(export.RouteFileTooLarge, match=r"kB with 3000 waypoints, over the 400 kB"):
        export.to_rtz(plan)
    assert gpxpy.parse(export.to_gpx(plan).decode()).routes[0].points[-1].name == "WP3000"  # GPX has no such limit


def test_route_export_writes_each_format_and_refuses_bad_input_cleanly(summer_month, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = summer_month.env
    for fmt in export.FORMATS:
        result = run_command("route.export", "--scenario", "sabetta_rotterdam", "--format", fmt, env=env)
        assert result.exit_code == 0, result.output
        assert "synthetic" in result.output
    written = sorted(p.name for p in tmp_path.iterdir())
    assert {p.rsplit(".", 1)[1] for p in written} == {"rtz", "gpx", "csv"}
    check_rtz((tmp_path / next(p for p in written if p.endswith(".rtz"))).read_bytes())
    # a route file given by path, verified by the sidecar beside its version
    canonical = summer_month.outputs / ROUTES / next(p.name for p in (summer_month.outputs / ROUTES).glob("sabetta*.geojson")
                                                     if "_adv_v" not in p.name)
    result = run_command("route.export", "--route", str(canonical), "--format", "gpx", "--out", "x.gpx", env=env)
    assert result.exit_code == 0 and "not verified" not in result.output
    # bad input: exit 2, a message naming the file, no traceback, nothing written
    (tmp_path / "bad.geojson").write_text("{not json")
    result = run_command("route.export", "--route", "bad.geojson", "--out", "bad.rtz", env=env)
    assert result.exit_code == 2 and "bad.geojson is not a GeoJSON document" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "bad.rtz").exists()
    result = run_command("route.export", "--scenario", "no_such_scenario", env=env)
    assert result.exit_code == 2 and "unknown scenario 'no_such_scenario'" in result.output
    result = run_command("route.export", "--scenario", "sabetta_rotterdam", "--route", "x.geojson", env=env)
    assert result.exit_code == 2
    # a copy whose bytes no longer match the sidecar beside it is refused
    copy = tmp_path / "copy"
    copy.mkdir()
    target = canonical.resolve()
    (copy / target.name).write_bytes(target.read_bytes().replace(b'"synthetic": true', b'"synthetic": false', 1))
    (copy / (target.name + ".meta.json")).write_bytes((target.parent / (target.name + ".meta.json")).read_bytes())
    result = run_command("route.export", "--route", str(copy / target.name), "--out", "y.rtz", env=env)
    assert result.exit_code == 1 and "does not match its sidecar" in result.output and not (tmp_path / "y.rtz").exists()


def test_a_no_route_day_has_nothing_to_export():
    document = {"type": "FeatureCollection", "features": [],
                "arcticroute": {"scenario": "s", "date": "2026-12-01", "status": "no-route", "reason": "ice"}}
    with pytest.raises(ArcticRouteError, match="has no route to export"):
        passage.passage_plan(document)


def test_route_plan_makes_a_missing_rtz_again(summer_month, tmp_path):
    # on a copy: the lost version stays named by catalog.verify, as it should, in the copy only
    month = make_roots(tmp_path)
    for name in ("data", "outputs", "reports"):
        if getattr(summer_month, name).exists():
            shutil.copytree(getattr(summer_month, name), getattr(month, name), symlinks=True)
    rtz = next(p for p in (month.outputs / ROUTES).glob("sabetta_rotterdam_*.rtz") if "_adv_v" not in p.name)
    version = rtz.resolve()
    version.unlink()
    day = rtz.name.split("_")[-1].removesuffix(".rtz")
    result = run_command("route.plan", "--scenario", "sabetta_rotterdam", "--date",
                         f"{day[:4]}-{day[4:6]}-{day[6:]}", env=month.env)
    assert result.exit_code == 0, result.output
    assert rtz.resolve() != version and check_rtz(rtz.read_bytes())
