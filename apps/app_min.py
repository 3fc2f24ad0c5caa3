"""ArcticRoute UI (Streamlit): routes on a map, layers, runs, health and the catalog.

Served by apps/asgi.py (which adds the /api/* routes on the same port): `just serve`,
`serve --ui`, or the container. Every page reads through lib/arcticroute, as the commands do.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="ArcticRoute", page_icon="🧊", layout="wide")

PAGES = [
    st.Page("ui_pages/overview.py", title="Overview", url_path="overview", default=True),
    st.Page("ui_pages/route.py", title="Route", url_path="route"),
    st.Page("ui_pages/layers.py", title="Layers", url_path="layers"),
    st.Page("ui_pages/catalog.py", title="Catalog", url_path="catalog"),
    st.Page("ui_pages/logs.py", title="Logs", url_path="logs"),
]

st.navigation(PAGES).run()
