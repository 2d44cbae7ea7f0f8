"""Scoring calls against the benchmark: entry, grid, bands, records, roll-ups, the run."""
