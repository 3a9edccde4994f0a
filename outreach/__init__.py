"""Entrypoints: the CLI (Typer) and the wiring that builds real objects from settings."""
