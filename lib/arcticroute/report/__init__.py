"""report.build: the monthly HTML report (inputs, map, calibration, the page and its template)."""
