"""Storage: SQLAlchemy 2 tables, engine set-up and migrations (Alembic, under migrations/)."""
