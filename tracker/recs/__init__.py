"""The calls and rating scales as records: models, the book (load, filter), YAML files."""
