"""The shared kernel: configuration, the database, identity, errors, languages, signing,
metrics. It imports no domain and no API (ARCHITECTURE.md)."""
