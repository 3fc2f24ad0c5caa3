"""Garbage collection: cache folders by age and disk watermark (``cache.gc``), artifact versions
by retention (``catalog.gc``). See docs/artifacts.md, section *Garbage collection*.

Modules, bottom up (none imports a module above it; this file imports none of them, so the
catalog can use the pure ones without an import cycle):

- ``fs``: folders opened without following links, removals relative to an open folder;
- ``policy``: the ``gc:`` section of config/runtime.yaml with its defaults and overrides;
- ``retention``: pure decisions, with a reason each, over versions read from sidecars;
- ``sidecars``: reading what retention needs from the sidecars, canonical link targets;
- ``versions``: removing versions (sidecar first, then file) with on-disk re-checks;
- ``disk``, ``live``: the disk's usage and cache.gc's reserve; the runs in progress and their locks;
- ``evict``: eviction down to the watermark, or why it cannot get there;
- ``cache``: the TTL pass over cache folders and temporary files of dead runs, then ``evict``.
"""
