"""Delivery: the tick, sending, the delivery state machine, messages, retries, schedules, suppression, providers.
May import: authoring (compiled step content) and the top-level modules of `campaigns`."""
