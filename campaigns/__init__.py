"""Outreach's domain: everything the product does, importable without Celery, a web server or the CLI.

    authoring/    an article parsed, planned into a series and compiled once per step
    delivery/     the tick, sending, the delivery state machine, messages, retries, schedules, suppression, providers
    insight/      provider events, what they do to deliveries and people, stats
    audience/     subscribers, sign-up, preferences, unsubscribe, privacy
    management/   campaigns as staff handle them: records, lifecycle, editing, enrollment, checks, forecast
    team/         staff accounts with roles, and their sessions kept on the server
    db/           tables, sessions, SQL that differs by database, migrations
    settings, brand, errors, tokens, audit, redaction, addresses (stored, sent and fingerprinted forms),
    text_input (the one cleaner of typed text), rate_limits (limits shared by every process): shared by every room

Rooms import downward only (team → management → audience → insight → delivery → authoring → shared modules);
the import-linter contracts in pyproject.toml hold the code to it, and `web/`, `workers/`, `outreach/` to the edge.
"""
