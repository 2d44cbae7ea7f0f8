"""The ticker registry: resolving names and codes, importing HKEX's list."""
