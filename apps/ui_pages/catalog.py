"""Catalog: search the artifacts; versions, lineage and verification of one of them."""

from __future__ import annotations

import streamlit as st
from common import EMPTY_HINT, settings_or_stop, synthetic_banner

from arcticroute import views
from arcticroute.store.integrity import repair_command

settings = settings_or_stop()
st.title("Catalog")
entries, problems = views.catalog_entries(settings)
for problem in problems:
    st.warning(problem)
if not entries:
    st.info(EMPTY_HINT)
    st.stop()
synthetic_banner(any(e.newest.get("synthetic") for e in entries))
search = st.text_input("Search", placeholder="logical id, kind, date, source …")
rows = views.catalog_rows(entries, search)
st.dataframe(rows, hide_index=True, width="stretch")
st.caption(f"{len(rows)} of {len(entries)} artifacts")

by_id = {e.logical_id: e for e in entries}
chosen = st.selectbox("Artifact", [r["logical_id"] for r in rows] or sorted(by_id))
entry = by_id[chosen]
left, right = st.columns(2)
left.subheader("Versions")
left.dataframe(views.versions_rows(entry), hide_index=True, width="stretch")
right.subheader("Inputs (lineage)")
right.dataframe(views.lineage_rows(entry), hide_index=True, width="stretch")
if st.button("Verify", type="primary"):
    found = views.verify(settings, entry)
    if found:
        for problem in found:
            st.error(problem)
        st.info(f"What to do: run catalog.verify --repair (just repair), then {repair_command(entry.newest)}")
    else:
        st.success(f"{chosen}: every version matches its sidecar (size and sha256), canonical link intact")
