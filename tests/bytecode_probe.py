"""Which modules a process compiles from source: imports what the commands and the UI import
and prints JSON ``{"compiled": [paths], "dont_write_bytecode": bool, "modules": n}``.

Python calls ``SourceFileLoader.source_to_code`` only when a module has no valid bytecode; the
probe counts those calls. Standard library only, so it runs as ``python -c`` in the image too.
"""

import importlib
import importlib.machinery
import json
import sys

MODULES = (
    "click", "numpy", "scipy.ndimage", "netCDF4", "xarray", "pyproj", "jsonschema", "matplotlib.figure",
    "skimage.graph", "streamlit",
    "arcticroute.cli", "arcticroute.console", "arcticroute.commands", "arcticroute.ingest", "arcticroute.risk.fuse",
    "arcticroute.route.planner", "arcticroute.report.build", "arcticroute.ops.health", "arcticroute.ncread",
    "arcticroute.api",
)

compiled = []
_source_to_code = importlib.machinery.SourceFileLoader.source_to_code


def _spy(self, data, path, *args, **kwargs):
    compiled.append(str(path))
    return _source_to_code(self, data, path, *args, **kwargs)


importlib.machinery.SourceFileLoader.source_to_code = _spy
for name in MODULES:
    importlib.import_module(name)
print(json.dumps({"compiled": compiled, "dont_write_bytecode": sys.dont_write_bytecode, "modules": len(sys.modules)}))
