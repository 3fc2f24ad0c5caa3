"""Storage: atomic writes, versioned artifacts with sidecars, verify on read, the catalog, repair, layout."""
