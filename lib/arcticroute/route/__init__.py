"""route.plan: the route model (POLARIS limits, time-based cost, straits), search, smoothing, the voyage through the daily layers, GeoJSON."""
