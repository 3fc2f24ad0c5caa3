"""Renderings of a route's passage plan for the bridge: RTZ (IEC 61174 Route Plan Exchange
Format, versions 1.1 and 1.0, what a type-approved ECDIS imports), GPX 1.1 (chart plotters, GIS)
and the CSV passage plan; and RTZ read back.

Standard RTZ fields carry only what they mean: positions (WGS84, decimal degrees), the leg's
geometry (every leg is an orthodrome: ``passage``), the planned speed, the vessel's draught and
safety depth where its profile gives them, and a calculated schedule with the ETA at every
waypoint. What is ours (POLARIS RIO, ice regime, the synthetic flag, where the route came from)
goes only into ``extensions`` under our manufacturer id.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from .. import __version__
from ..errors import ArcticRouteError, BadInputError
from .coordinates import iso_second
from .passage import Leg, Passage, Waypoint, position_text

FORMATS = ("rtz", "rtz10", "gpx", "csv")
SUFFIXES = {"rtz": ".rtz", "rtz10": ".rtz", "gpx": ".gpx", "csv": ".csv"}
MEDIA_TYPES = {"rtz": "application/xml", "rtz10": "application/xml", "gpx": "application/gpx+xml",
               "csv": "text/csv"}
RTZ_NAMESPACES = {"1.1": "http://www.cirm.org/RTZ/1/1", "1.0": "http://www.cirm.org/RTZ/1/0"}
GPX_NAMESPACE = "http://www.topografix.com/GPX/1/1"
MANUFACTURER = "ArcticRoute"
EXTENSION_NAMESPACE = "urn:arcticroute:rtz:1"
RTZ_MAX_BYTES = 400_000  # what ECDIS route import limits expect (IEC 61174 Ed.4, 400 kB)
SYNTHETIC_NAME = "SYNTHETIC DEMO DATA - NOT FOR NAVIGATION"
CSV_COLUMNS = ("leg", "from_waypoint", "from_position", "to_waypoint", "to_position", "course_true_deg",
               "distance_nm", "cumulative_nm", "etd_utc", "eta_utc", "speed_kn", "sic_mean", "sic_max",
               "stage_of_development", "polaris_rio_min", "polaris_operation", "hs_max_m", "min_depth_m",
               "escort_required", "persisted_conditions", "synthetic")


class RouteFileTooLarge(ArcticRouteError):
    """The route does not fit the size an ECDIS import accepts."""


def route_name(passage: Passage) -> str:
    name = f"{passage.scenario} {passage.date}"
    return f"{SYNTHETIC_NAME}: {name}" if passage.synthetic else name


def _number(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def _lon(value: float) -> float:
    """Longitude in [-180, 180): the schemas exclude +180, the same meridian as -180."""
    return -180.0 if value >= 180.0 else value


def _flag(value: bool | None) -> str | None:
    return None if value is None else str(value).lower()


def _leg_extension(leg: Leg) -> dict[str, str]:
    found = {"rioMin": leg.rio_min, "operation": leg.operation, "sicMean": leg.sic_mean, "sicMax": leg.sic_max,
             "stage": leg.stage, "hsMax": leg.hs_max_m, "minDepth": leg.min_depth_m, "escort": _flag(leg.escort),
             "persisted": _flag(leg.persisted)}
    return {key: str(value) for key, value in found.items() if value is not None}


def _leg_depths(passage: Passage) -> dict[str, str | None]:
    """The standard leg fields of the vessel's draught (level keel: the profile gives one) and the
    safety depth it needs (draught + under-keel clearance), where the profile gives a draught."""
    if passage.draught_m is None:
        return {}
    draught = _number(float(passage.draught_m), 2)
    out = {"draughtForward": draught, "draughtAft": draught}
    if passage.safety_depth_m is not None:
        out["safetyDepth"] = _number(float(passage.safety_depth_m), 2)
        out["staticUKC"] = _number(float(passage.safety_depth_m) - float(passage.draught_m), 2)
    return out


def _validity(passage: Passage) -> tuple[str, str]:
    """The days whose conditions the route was planned and sailed in: from the first's midnight
    to the end of the last (UTC)."""
    first = datetime.fromisoformat(passage.conditions_days[0]).replace(tzinfo=UTC)
    last = datetime.fromisoformat(passage.conditions_days[-1]).replace(tzinfo=UTC) + timedelta(days=1)
    return iso_second(first), iso_second(last)


def to_rtz(passage: Passage, version: str = "1.1") -> bytes:
    """The route as RTZ ``version`` (1.1 or 1.0); RouteFileTooLarge past ``RTZ_MAX_BYTES``."""
    ns = RTZ_NAMESPACES[version]
    ET.register_namespace("", ns)
    ET.register_namespace("ar", EXTENSION_NAMESPACE)

    def el(parent, tag: str, **attrs) -> ET.Element:
        return ET.SubElement(parent, f"{{{ns}}}{tag}", {k: v for k, v in attrs.items() if v is not None})

    def extension(parent, name: str, tag: str, attrs: dict[str, str]) -> None:
        extensions = el(parent, "extensions")
        ext = el(extensions, "extension", manufacturer=MANUFACTURER, name=name, version="1")
        ET.SubElement(ext, f"{{{EXTENSION_NAMESPACE}}}{tag}", attrs)

    vessel = passage.vessel
    root = ET.Element(f"{{{ns}}}route", {"version": version})
    start, stop = _validity(passage)
    info = el(root, "routeInfo", routeName=route_name(passage), routeAuthor=f"ArcticRoute {__version__}",
              routeStatus=SYNTHETIC_NAME if passage.synthetic else "planned, not verified for navigation",
              validityPeriodStart=start, validityPeriodStop=stop, vesselName=vessel.get("name"),
              optimizationMethod="least time plus risk penalty within POLARIS, ice and wave limits",
              vesselSpeedMax=_number(float(vessel["speed_kn"]), 1) if vessel.get("speed_kn") else None)
    extension(info, "voyage", "voyage", {
        "synthetic": str(passage.synthetic).lower(), "scenario": passage.scenario, "date": passage.date,
        "runId": str(passage.source.get("run_id") or ""), "iceClass": str(vessel.get("ice_class") or ""),
        "maxDeviationNm": str(passage.max_deviation_nm), **({"notice": passage.notice} if passage.notice else {}),
        **({"escortAreas": "; ".join(passage.escort_areas)} if passage.escort_areas else {}),
        "assumedEscort": str(passage.assumed_escort).lower()})
    waypoints = el(root, "waypoints")
    for index, waypoint in enumerate(passage.waypoints):
        node = el(waypoints, "waypoint", id=str(waypoint.id), name=waypoint.name)
        el(node, "position", lat=_number(waypoint.lat, 6), lon=_number(_lon(waypoint.lon), 6))
        if index == 0:
            continue
        leg = passage.legs[index - 1]
        el(node, "leg", geometryType="Orthodrome", speedMax=_number(float(vessel["speed_kn"]), 1)
           if vessel.get("speed_kn") else None, **_leg_depths(passage),
           legInfo=f"{leg.operation or 'normal'} (POLARIS)" + (", icebreaker escort" if leg.escort else ""))
        extension(node, "leg", "leg", _leg_extension(leg))
    schedules = el(root, "schedules")
    schedule = el(schedules, "schedule", id="1", name="ArcticRoute voyage model")
    calculated = el(schedule, "calculated")
    el(calculated, "scheduleElement", waypointId="1", etd=iso_second(passage.departure))
    for leg in passage.legs:
        el(calculated, "scheduleElement", waypointId=str(leg.end.id), eta=iso_second(leg.end.time),
           speed=_number(leg.speed_kn, 1))
    ET.indent(root, space=" ")
    data = ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"
    if len(data) > RTZ_MAX_BYTES:
        raise RouteFileTooLarge(
            f"the RTZ of {passage.scenario} on {passage.date} is {len(data) / 1000:.0f} kB with "
            f"{len(passage.waypoints)} waypoints, over the {RTZ_MAX_BYTES // 1000} kB an ECDIS import accepts "
            "(collinear legs are merged already)", hint="plan it on a coarser grid (--grid-km 25), or split the voyage")
    return data


def to_gpx(passage: Passage) -> bytes:
    """The route as a GPX 1.1 ``rte``; each ``rtept``'s time is its ETA."""
    ET.register_namespace("", GPX_NAMESPACE)

    def el(parent, tag: str, text: str | None = None, **attrs) -> ET.Element:
        node = ET.SubElement(parent, f"{{{GPX_NAMESPACE}}}{tag}", attrs)
        if text is not None:
            node.text = text
        return node

    root = ET.Element(f"{{{GPX_NAMESPACE}}}gpx", {"version": "1.1", "creator": f"ArcticRoute {__version__}"})
    metadata = el(root, "metadata")
    el(metadata, "name", route_name(passage))
    el(metadata, "desc", _description(passage))
    el(metadata, "time", iso_second(passage.departure))
    route = el(root, "rte")
    el(route, "name", route_name(passage))
    el(route, "desc", _description(passage))
    el(route, "src", f"ArcticRoute {__version__}, run {passage.source.get('run_id')}")
    for waypoint in passage.waypoints:
        point = el(route, "rtept", lat=_number(waypoint.lat, 6), lon=_number(_lon(waypoint.lon), 6))
        el(point, "time", iso_second(waypoint.time))
        el(point, "name", waypoint.name)
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def _description(passage: Passage) -> str:
    vessel = passage.vessel
    text = (f"{vessel.get('name')} ({vessel.get('ice_class')}), departure {iso_second(passage.departure)}, "
            f"ETA {iso_second(passage.arrival)}; legs are great circles")
    if passage.escort_areas:
        text += f"; icebreaker escort required in {', '.join(passage.escort_areas)}"
    return f"{SYNTHETIC_NAME}. {text}" if passage.synthetic else text


def passage_rows(passage: Passage) -> list[dict]:
    """One row a leg: the passage plan as the report, the UI and the CSV show it."""
    return [{
        "leg": leg.number,
        "from_waypoint": leg.start.name, "from_position": position_text(leg.start.lat, leg.start.lon),
        "to_waypoint": leg.end.name, "to_position": position_text(leg.end.lat, leg.end.lon),
        "course_true_deg": f"{leg.course_deg:05.1f}", "distance_nm": leg.distance_nm,
        "cumulative_nm": leg.cumulative_nm, "etd_utc": iso_second(leg.start.time), "eta_utc": iso_second(leg.end.time),
        "speed_kn": leg.speed_kn, "sic_mean": leg.sic_mean, "sic_max": leg.sic_max,
        "stage_of_development": leg.stage, "polaris_rio_min": leg.rio_min, "polaris_operation": leg.operation,
        "hs_max_m": leg.hs_max_m, "min_depth_m": leg.min_depth_m, "escort_required": leg.escort,
        "persisted_conditions": leg.persisted, "synthetic": passage.synthetic,
    } for leg in passage.legs]


def to_csv(passage: Passage) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in passage_rows(passage):
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue().encode("utf-8")


def render(passage: Passage, fmt: str) -> bytes:
    """``passage`` in one of ``FORMATS``."""
    if fmt == "rtz":
        return to_rtz(passage, "1.1")
    if fmt == "rtz10":
        return to_rtz(passage, "1.0")
    if fmt == "gpx":
        return to_gpx(passage)
    if fmt == "csv":
        return to_csv(passage)
    raise BadInputError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")


def read_rtz(data: bytes, name: str = "RTZ file") -> list[Waypoint]:
    """The waypoints of an RTZ 1.0 or 1.1 file, with the calculated schedule's times (ETD of the
    first, ETA of the others); BadInputError names what is wrong."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise BadInputError(f"{name} is not well-formed XML ({exc})") from None
    ns = next((n for n in RTZ_NAMESPACES.values() if root.tag == f"{{{n}}}route"), None)
    if ns is None:
        raise BadInputError(f"{name} is not an RTZ route: root element {root.tag!r}, expected 'route' in "
                            f"{' or '.join(RTZ_NAMESPACES.values())}")
    times = {}
    for element in root.iterfind(f"{{{ns}}}schedules/{{{ns}}}schedule/{{{ns}}}calculated/{{{ns}}}scheduleElement"):
        moment = element.get("eta") or element.get("etd")
        if moment:
            times[int(element.get("waypointId"))] = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    found = []
    for node in root.iterfind(f"{{{ns}}}waypoints/{{{ns}}}waypoint"):
        position = node.find(f"{{{ns}}}position")
        if position is None or node.get("id") is None:
            raise BadInputError(f"{name}: a waypoint has no id or no position")
        ident = int(node.get("id"))
        found.append(Waypoint(ident, node.get("name") or "", float(position.get("lat")), float(position.get("lon")),
                              times.get(ident)))
    if len(found) < 2:
        raise BadInputError(f"{name} has {len(found)} waypoints; a route needs at least 2")
    return found
