"""The YAML menu language: its model, loader, JSON Schema and checker."""
