"""Authoring: an article (text, Markdown, HTML) parsed, planned into a series of steps, and compiled once per step.
May import: the top-level modules of `campaigns` (errors, brand, settings) only; nothing of the other rooms."""
