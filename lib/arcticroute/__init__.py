"""ArcticRoute: Arctic ship-route planning operations stack.

The scripts under ``scripts/``, the UI under ``apps/`` and the tests all import
this package; it holds every piece of logic a second caller could want.
"""

__version__ = "0.1.0"
