"""Authoring: an article (text, Markdown, HTML; from a file, pasted, or fetched from its address) parsed with every
dropped block shown, planned into a series of steps, and compiled once per step.
May import: the top-level modules of `campaigns` (errors, brand, settings) only; nothing of the other rooms."""
