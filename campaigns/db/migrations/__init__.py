"""Alembic migration scripts (see campaigns/db/migrate.py)."""
