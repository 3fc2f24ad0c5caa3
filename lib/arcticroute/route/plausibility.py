"""Plausibility: what a master would reject at a glance, said in the route document.

- **Beset risk.** The lowest speed sustained over any stretch of ``window_nm`` (runtime.yaml
  ``route.min_speed_window_nm``, 50 nm) along the sailed route: the distance of the stretch over
  the time the voyage takes to sail it. Below ``route.min_speed_kn`` (3 kn) the ship is in effect
  beset — the ice-speed model still gives it a speed, but a ship making under 3 kn through
  ice for tens of miles is stopped by a pressure ridge or a closing lead (the POLARIS elevated-
  risk limit below PC5 is itself 3 kn, MSC.1/Circ.1519 Table 1.5). Such a route is refused
  unless icebreaker escort is assumed (``route.plan --assume-escort``); either way the document
  says ``beset_risk`` and ``assumed_escort``.
- **Slow passage.** An ETA over ``SLOW_FACTOR`` (2x) the open-water time of the same distance.
- **Long way round.** A distance over ``DETOUR_FACTOR`` (1.5x) the great circle: when the
  distance-only baseline within the same limits is as long, the cause is geography at this grid
  or a limit of the vessel (a strait narrower than about two cells closed by the land mask, or
  by depth or ice), and the warning gives the command to plan at 6.25 km.
"""

from __future__ import annotations

import numpy as np

from . import geometry

SLOW_FACTOR = 2.0
DETOUR_FACTOR = 1.5
DEFAULT_MIN_SPEED_KN = 3.0
DEFAULT_WINDOW_NM = 50.0


def min_sustained_speed(seg_m: np.ndarray, hours: np.ndarray, window_nm: float) -> tuple[float, int, int]:
    """The lowest mean speed (kn) over any stretch of ``window_nm`` (the whole route when it is
    shorter), and the step indices where that stretch starts and ends."""
    nm = np.concatenate([[0.0], np.cumsum(seg_m) / geometry.METRES_PER_NM])
    h = np.concatenate([[0.0], np.cumsum(hours)])
    total = float(nm[-1])
    if total <= 0:
        return float("nan"), 0, 0
    if total <= window_nm:
        return total / max(float(h[-1]), 1e-9), 0, max(seg_m.size - 1, 0)
    starts = nm[nm + window_nm <= total]
    ends = starts + window_nm
    t0 = np.interp(starts, nm, h)
    t1 = np.interp(ends, nm, h)
    speed = window_nm / np.maximum(t1 - t0, 1e-9)
    k = int(np.argmin(speed))
    first = int(np.searchsorted(nm, starts[k], side="right") - 1)
    last = int(np.searchsorted(nm, ends[k], side="left") - 1)
    return float(speed[k]), first, max(last, first)


def assess(steps: dict, metrics: dict, vessel, *, min_speed_kn: float, window_nm: float, assume_escort: bool,
           baseline_ratio: float | None, grid_km: float, shallow_straits: tuple[str, ...] = ()
           ) -> tuple[dict, list[str]]:
    """The plausibility properties of a sailed route and its warnings (module doc)."""
    seg, hours = steps["seg"], steps["terms"]["hours"]
    speed, first, last = min_sustained_speed(seg, hours, window_nm)
    beset = bool(np.isfinite(speed) and speed < min_speed_kn)
    lon, lat = steps["lon"], steps["lat"]
    props = {
        "min_sustained_speed_kn": round(speed, 2) if np.isfinite(speed) else None,
        "min_speed_stretch": {"from": [round(float(lon[first]), 4), round(float(lat[first]), 4)],
                              "to": [round(float(lon[last + 1]), 4), round(float(lat[last + 1]), 4)],
                              "window_nm": window_nm} if seg.size else None,
        "min_speed_kn": min_speed_kn,
        "beset_risk": beset,
        "assumed_escort": bool(assume_escort),
    }
    warnings = []
    if beset:
        warnings.append(
            f"beset risk: the ship makes {speed:.1f} kn over {window_nm:g} nm from {float(lat[first]):.2f}N "
            f"{float(lon[first]):.2f}E, below the minimum sustained speed of {min_speed_kn:g} kn"
            + ("; planned assuming icebreaker escort" if assume_escort else ""))
    open_h = metrics["distance_nm"] / vessel.speed_kn if vessel.speed_kn else 0.0
    if open_h and metrics["duration_h"] > SLOW_FACTOR * open_h:
        warnings.append(f"slow passage: ETA {metrics['duration_h']:.0f} h is {metrics['duration_h'] / open_h:.1f}x the "
                        f"open-water time ({open_h:.0f} h at {vessel.speed_kn:g} kn): ice and waves slow the ship")
    ratio = metrics.get("distance_ratio")
    if ratio is not None and ratio > DETOUR_FACTOR:
        geography = baseline_ratio is not None and baseline_ratio > DETOUR_FACTOR
        cause = ("even the shortest way within the vessel's limits is this long: a strait is likely closed at this "
                 f"grid ({grid_km:g} km cells close straits narrower than about two cells) or by the vessel's depth "
                 "or ice limits" if geography else "the minimum-time route detours round ice, waves or risk")
        if geography and shallow_straits:
            cause += "; straits too shallow for this vessel: " + "; ".join(shallow_straits)
        hint = ("; plan at 6.25 km to see the straits the grid closes: route.plan ... --grid-km 6.25"
                if geography and grid_km > 6.25 else "")
        warnings.append(f"long way round: {metrics['distance_nm']:.0f} nm is {ratio:.2f}x the great circle; {cause}{hint}")
    return props, warnings
