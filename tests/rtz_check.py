"""An RTZ reader independent of ``arcticroute.route.export``: the published structure of IEC
61174 RTZ 1.0 and 1.1 (root ``route`` in the version's namespace, ``routeInfo`` with a
``routeName``, at least two waypoints with unique ids and positions in range, leg geometry types
of the schema's enumeration, schedule elements naming existing waypoints at increasing times,
extensions carrying a manufacturer and a name), and the ECDIS import size limit. Returns what an
ECDIS would load: the waypoints and the calculated schedule."""

from __future__ import annotations

import re
from datetime import datetime
from xml.dom import minidom

NAMESPACES = {"1.0": "http://www.cirm.org/RTZ/1/0", "1.1": "http://www.cirm.org/RTZ/1/1"}
GEOMETRY_TYPES = {"Loxodrome", "Orthodrome"}
ROUTE_CHILDREN = ["routeInfo", "waypoints", "schedules", "extensions"]
WAYPOINT_CHILDREN = ["position", "leg", "extensions"]
MAX_BYTES = 400_000
DECIMALS = re.compile(r"^-?\d+\.(\d+)$")


def _elements(node, name=None):
    return [c for c in node.childNodes if c.nodeType == c.ELEMENT_NODE and (name is None or c.localName == name)]


def _in_order(children, order, where):
    ranks = [order.index(c.localName) for c in children]
    assert all(c.localName in order for c in children), f"{where}: unexpected {[c.localName for c in children]}"
    assert ranks == sorted(ranks), f"{where}: children out of order: {[c.localName for c in children]}"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def check_rtz(data: bytes) -> dict:
    assert len(data) < MAX_BYTES, f"{len(data)} bytes: over the {MAX_BYTES} an ECDIS import accepts"
    root = minidom.parseString(data).documentElement
    assert root.localName == "route"
    version = root.getAttribute("version")
    assert version in NAMESPACES and root.namespaceURI == NAMESPACES[version], (version, root.namespaceURI)
    children = _elements(root)
    _in_order(children, ROUTE_CHILDREN, "route")
    (info,) = _elements(root, "routeInfo")
    assert info.getAttribute("routeName").strip()
    (waypoints_node,) = _elements(root, "waypoints")
    waypoints = []
    for node in _elements(waypoints_node, "waypoint"):
        _in_order(_elements(node), WAYPOINT_CHILDREN, "waypoint")
        ident = int(node.getAttribute("id"))
        assert ident >= 0
        (position,) = _elements(node, "position")
        lat_text, lon_text = position.getAttribute("lat"), position.getAttribute("lon")
        for text in (lat_text, lon_text):
            match = DECIMALS.match(text)
            assert match and len(match[1]) >= 6, f"position {text!r} has fewer than 6 decimals"
        lat, lon = float(lat_text), float(lon_text)
        assert -90 <= lat <= 90 and -180 <= lon < 180, (lat, lon)
        for leg in _elements(node, "leg"):
            if leg.hasAttribute("geometryType"):
                assert leg.getAttribute("geometryType") in GEOMETRY_TYPES
        for ext in (e for x in _elements(node, "extensions") for e in _elements(x, "extension")):
            assert ext.getAttribute("manufacturer") and ext.getAttribute("name")
        waypoints.append({"id": ident, "name": node.getAttribute("name"), "lat": lat, "lon": lon})
    assert len(waypoints) >= 2
    ids = [w["id"] for w in waypoints]
    assert len(set(ids)) == len(ids), "waypoint ids are not unique"
    schedule = []
    for schedules in _elements(root, "schedules"):
        for element in (e for s in _elements(schedules, "schedule") for c in _elements(s, "calculated")
                        for e in _elements(c, "scheduleElement")):
            ident = int(element.getAttribute("waypointId"))
            assert ident in ids, f"schedule names waypoint {ident}, which is not in the route"
            moment = element.getAttribute("eta") or element.getAttribute("etd")
            schedule.append((ident, _time(moment)))
    times = [t for _i, t in schedule]
    assert all(a < b for a, b in zip(times[:-1], times[1:], strict=False)), "schedule times do not increase"
    return {"version": version, "name": info.getAttribute("routeName"), "waypoints": waypoints,
            "schedule": dict(schedule), "info": {k: v for k, v in info.attributes.items()}}
