"""Issue 19 (hardening): address fingerprints keyed with OUTREACH_ADDRESS_KEY.

Before, `email_key` was the SHA-256 of the lower-cased address: anyone with a copy of the database could check a
guessed address against it, erased people's suppressions included. Now it is HMAC-SHA256(key, that SHA-256), so
each stored key can be re-keyed from the old one alone: the rows whose address is gone (erased subscribers'
suppressions, events about them) keep matching the address if it ever comes back, exactly as the rows whose address
is still known. The subscribers, suppressions and events tables are re-keyed in one statement each (erased
subscribers' "erased-<id>" stand-ins are left alone), and the key's fingerprint is recorded so that the app refuses
to run with another key later.

The formula is written out here, not imported, so that this migration keeps doing what it did when the code moves
on; campaigns.addresses.AddressKey computes the same. Needs the key (`outreach db upgrade` passes it) unless the
database holds no address yet. Cannot be undone: the old keys are not kept.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 10:05:00

"""

import hashlib
import hmac
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("subscribers", "suppressions", "events")
CHECK = "outreach.address-key-check"  # what the key's fingerprint is the HMAC of


def _unkeyed(column: str, dialect: str) -> str:
    """SQL true for a key of the old kind: 64 lower-case hex digits."""
    if dialect == "postgresql":
        return f"{column} ~ '^[0-9a-f]{{64}}$'"
    return f"length({column}) = 64 AND {column} NOT GLOB '*[^0-9a-f]*'"


def _pads(secret: str) -> tuple[bytes, bytes]:
    """HMAC's inner and outer padded keys (RFC 2104), for computing it with PostgreSQL's sha256()."""
    key = secret.encode("utf-8")
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    secret = context.config.attributes.get("address_key")
    counts = {
        t: bind.execute(sa.text(f"SELECT count(*) FROM {t} WHERE {_unkeyed('email_key', dialect)}")).scalar_one()
        for t in TABLES
    }
    if not secret:
        if any(counts.values()):
            raise RuntimeError(
                f"migration 0003 re-keys {sum(counts.values())} stored address fingerprints with "
                "OUTREACH_ADDRESS_KEY: run `outreach db upgrade` with that setting (a long random value, kept for good)"
            )
        return  # nothing to re-key: the app records its key's fingerprint on first use
    if dialect == "postgresql":
        inner, outer = _pads(secret)
        new = "encode(sha256(:outer || sha256(:inner || convert_to(email_key, 'UTF8'))), 'hex')"
        params = {"inner": inner, "outer": outer}
    else:
        mac = hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha256)

        def keyed(old: str) -> str:
            m = mac.copy()
            m.update(old.encode("ascii"))
            return m.hexdigest()

        sqlite = bind.connection.driver_connection
        assert sqlite is not None  # a live connection: the migration runs on it
        sqlite.create_function("outreach_keyed", 1, keyed, deterministic=True)
        new, params = "outreach_keyed(email_key)", {}
    for table in TABLES:
        if counts[table]:
            bind.execute(
                sa.text(f"UPDATE {table} SET email_key = {new} WHERE {_unkeyed('email_key', dialect)}"), params
            )
    fingerprint = hmac.new(secret.encode("utf-8"), CHECK.encode("ascii"), hashlib.sha256).hexdigest()
    bind.execute(sa.text("DELETE FROM key_checks WHERE name = 'address'"))
    bind.execute(sa.text("INSERT INTO key_checks (name, fingerprint) VALUES ('address', :f)"), {"f": fingerprint})


def downgrade() -> None:
    bind = op.get_bind()
    held = sum(
        bind.execute(
            sa.text(f"SELECT count(*) FROM {t} WHERE email_key IS NOT NULL AND email_key NOT LIKE 'erased-%'")
        ).scalar_one()
        for t in TABLES
    )
    if held:
        raise RuntimeError("migration 0003 cannot be undone: the unkeyed address fingerprints are not kept")
    bind.execute(sa.text("DELETE FROM key_checks WHERE name = 'address'"))
