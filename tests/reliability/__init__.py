"""The reliability and security suite: bad input, faults, crashes, concurrency, secrets.

Run by ``make test`` in its quick profile; ``make reliability`` runs the long
profile and writes ``docs/RELIABILITY.md`` (``scripts/reliability_report.py``).
"""
