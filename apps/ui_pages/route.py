"""Route: pick a scenario or enter end points, vessel and date; plan in the page (route.plan's
own code, written as an artifact); the route and its baseline over the ice or risk layer, the seas
and straits it passes, its passage plan, and the route as GeoJSON, RTZ, GPX and CSV downloads."""

from __future__ import annotations

import streamlit as st
from common import EMPTY_HINT, cached_layer_view, settings_or_stop, show_error, synthetic_banner
from maps import layer_figure

from arcticroute import views
from arcticroute.errors import ArcticRouteError
from arcticroute.route import export, passage, places, planner

settings = settings_or_stop()
st.title("Route")
days = planner.risk_days(settings)
if not days:
    st.info(EMPTY_HINT)
    st.stop()

scenarios = settings.scenarios.get("scenarios", {})
vessels = sorted(settings.scenarios.get("vessels", {}))
with st.form("plan"):
    mode = st.radio("Route", ["Scenario", "Ad-hoc end points"], horizontal=True)
    left, right = st.columns(2)
    scenario = left.selectbox("Scenario", sorted(scenarios), help="from config/scenarios.yaml")
    day = right.select_slider("Date (days with a risk layer)", options=days, value=days[-1])
    origin = left.text_input("From (LAT,LON)", "70.5,30.0")
    destination = right.text_input("To (LAT,LON)", "75.0,60.0")
    vessel = left.selectbox("Vessel (ad-hoc)", vessels)
    background = right.radio("Layer under the route", ["ice.sic", "risk"], horizontal=True)
    ignore_rules = left.checkbox("Ignore the sea-area rules (study)",
                                 help="plan a voyage the NSR rules do not permit; the route says so")
    submitted = st.form_submit_button("Plan route", type="primary")

try:
    if mode == "Scenario":
        (request,) = planner.scenario_requests(settings, [scenario])
    else:
        request = planner.adhoc_request(settings, planner.parse_position(origin, "From"),
                                        planner.parse_position(destination, "To"), vessel)
except ArcticRouteError as exc:
    show_error(exc)
    st.stop()

if submitted:
    with st.spinner(f"planning {request.name} on {day} …"):
        try:
            outcome, summary, run_id = views.plan_route(settings, request, day, ignore_rules=ignore_rules)
        except ArcticRouteError as exc:
            show_error(exc)
            st.stop()
    st.caption(f"{outcome} (run {run_id})")

try:
    found = views.route_document(settings, request.name, day)
except ArcticRouteError as exc:
    show_error(exc)
    st.stop()
if found is None:
    st.info(f"No route planned yet for {request.name} on {day}: press **Plan route**.")
    st.stop()
document, meta, data = found
synthetic_banner(bool(meta.get("synthetic")))
info = document["arcticroute"]
if info.get("status") in ("no-route", "refused"):
    label = "NO ROUTE" if info["status"] == "no-route" else "REFUSED by the sea-area rules"
    st.error(f"{label} for {request.name} on {day}: {info.get('reason')}")
    if views.rules_rows(document):
        st.dataframe(views.rules_rows(document), hide_index=True, width="stretch")
    st.stop()
for warning in info.get("warnings", []):
    st.warning(warning)

lines = {role: points for role in ("route", "baseline", "onward")
         if (points := views.route_line_points(document, role)) is not None}
try:
    plan = passage.passage_plan(document)
    passed = places.route_places(document)
    layer_meta = views.layer_meta(settings, background, day)
    if layer_meta is None:
        st.info(f"No {background} layer for {day} on grid {settings.grid.name} to draw the route over.")
        st.stop()
    views.check_intact(settings, layer_meta)
    view = cached_layer_view(background, day, layer_meta["sha256"], str(settings.data_root), settings)
except ArcticRouteError as exc:
    show_error(exc)
    st.stop()
st.plotly_chart(layer_figure(view, lines, places=passed), width="stretch")
st.subheader(f"{request.name}: {info.get('vessel', {}).get('name')} ({info.get('vessel', {}).get('ice_class')})")
if passed:
    st.write("Passes: " + " → ".join(p.name for p in passed))
st.dataframe(views.route_stats(document), hide_index=True, width="stretch")
st.subheader("Sea-area rules and assumed ice types")
st.write(views.rules_verdict_text(document))
if views.rules_rows(document):
    st.dataframe(views.rules_rows(document), hide_index=True, width="stretch")
st.caption(views.conditions_note(document))
if "total_distance_nm" in info.get("summary", {}):
    st.write(f"With the onward leg to {info['summary']['final_destination']}: "
             f"{info['summary']['total_distance_nm']} nm, ETA {info['summary']['total_eta']}.")

st.subheader("Passage plan")
st.caption(f"{len(plan.legs)} legs, each a great circle within {plan.max_deviation_nm:g} nm of the planned line; "
           "positions in degrees and decimal minutes (WGS84), course true, times UTC.")
st.dataframe(export.passage_rows(plan), hide_index=True, width="stretch")
stem = f"{request.name}_{day:%Y%m%d}"
downloads = st.columns(4)
downloads[0].download_button("Download GeoJSON", data, file_name=f"{stem}.geojson", mime="application/geo+json")
try:
    rtz = views.route_rtz(settings, request.name, day, meta)
    files = {"RTZ (ECDIS)": (rtz, "rtz"), "GPX": (export.render(plan, "gpx"), "gpx"),
             "CSV passage plan": (export.render(plan, "csv"), "csv")}
except ArcticRouteError as exc:
    show_error(exc)
    st.stop()
for column, (label, (payload, fmt)) in zip(downloads[1:], files.items(), strict=True):
    column.download_button(f"Download {label}", payload, file_name=f"{stem}{export.SUFFIXES[fmt]}",
                           mime=export.MEDIA_TYPES[fmt])
