"""Audience: subscribers, sign-up and confirmation, preferences, unsubscribe and privacy (export, erase).
May import: insight, delivery, authoring and the top-level modules of `campaigns`; never management."""
