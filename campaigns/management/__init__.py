"""Management: campaigns as staff handle them: records and versions, lifecycle, editing, enrollment, checks, forecast.
May import: every other room and the top-level modules of `campaigns`."""
