"""Insight: provider events (verified, normalised, stored once), what they do to deliveries and people, stats, and
the dashboard's lists of what happened lately (activity).
May import: delivery, authoring and the top-level modules of `campaigns`."""
