"""Insight: provider events (verified, normalised, stored once), what they do to deliveries and people, and stats.
May import: delivery, authoring and the top-level modules of `campaigns`."""
