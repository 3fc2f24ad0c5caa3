"""Small replicas of the providers' files, in their real formats (see ../shared/SOURCES.md),
and a loopback site that serves them like the providers do (ETag, Last-Modified, 304, HEAD),
with faults on demand (500s, slow answers, truncated bodies)."""
