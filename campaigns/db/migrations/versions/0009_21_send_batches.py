"""Issue 21: send batches. Leases move from each delivery to one row per batch of up to a thousand (send_batches),
so no index covers a delivery's status (nor its message id, which events reach through the address key) and its
moves are HOT updates on PostgreSQL (fillfactor 50: room on each page for the next version of each row). A delivery's
campaign keeps no foreign key of its own (its enrollment's ties it): one check less, and no lock on the campaign
row, for each delivery created.

Deliveries in flight when this runs (queued, claimed or in submission under the old design) are put in batches of
their campaign step, each carrying the latest lease of its rows: the tick takes them up as it takes up any batch
(`queued` ones handed out again once the lease runs out, claimed ones back to `queued`, ones in submission
`unknown`), so none is lost and none is sent twice.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import groupby

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    op.create_table(
        "send_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("step_number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_send_batches_campaign_id_campaigns"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_batches")),
    )
    with op.batch_alter_table("send_batches") as batch:
        batch.create_index("ix_send_batches_status_lease", ["status", "lease_until"], unique=False)
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch.drop_index("ix_deliveries_status_lease")
        batch.drop_index("ix_deliveries_message")
        batch.create_index("ix_deliveries_batch", ["batch_id"], unique=False)
        batch.drop_constraint("fk_deliveries_campaign_id_campaigns", type_="foreignkey")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE deliveries SET (fillfactor = 50)")
    _batch_in_flight(bind)


def _batch_in_flight(bind) -> None:
    """Put every delivery still in flight into a batch of its campaign step (see the module docstring)."""
    deliveries = sa.table(
        "deliveries",
        sa.column("id", sa.Integer),
        sa.column("campaign_id", sa.Integer),
        sa.column("step_number", sa.Integer),
        sa.column("status", sa.String),
        sa.column("lease_until", sa.DateTime(timezone=True)),  # typed: SQLite gives its text back as a datetime
        sa.column("batch_id", sa.Integer),
    )
    d = deliveries.c
    rows = bind.execute(
        sa.select(d.id, d.campaign_id, d.step_number, d.status, d.lease_until)
        .where(d.status.in_(("queued", "sending", "submitting")))
        .order_by(d.campaign_id, d.step_number, d.id)
    ).all()
    now = datetime.now(UTC)
    batches = sa.table(
        "send_batches",
        sa.column("id", sa.Integer),
        sa.column("campaign_id", sa.Integer),
        sa.column("step_number", sa.Integer),
        sa.column("status", sa.String),
        sa.column("lease_until", sa.DateTime(timezone=True)),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    for (campaign_id, step), group in groupby(rows, key=lambda r: (r.campaign_id, r.step_number)):
        part = list(group)
        for start in range(0, len(part), BATCH):
            chunk = part[start : start + BATCH]
            leases = [_aware(r.lease_until) for r in chunk if r.lease_until is not None]
            claimed = any(r.status != "queued" for r in chunk)
            batch_id = bind.execute(
                sa.insert(batches)
                .values(
                    campaign_id=campaign_id,
                    step_number=step,
                    status="sending" if claimed else "queued",
                    lease_until=max(leases) if leases else None,
                    created_at=now,
                )
                .returning(batches.c.id)
            ).scalar_one()
            bind.execute(sa.update(deliveries).where(d.id.in_([r.id for r in chunk])).values(batch_id=batch_id))


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value  # SQLite gives them back naive


def downgrade() -> None:
    # Leases go back on the deliveries: each in-flight delivery gets its batch's.
    op.execute(
        "UPDATE deliveries SET lease_until = (SELECT lease_until FROM send_batches WHERE send_batches.id = "
        "deliveries.batch_id) WHERE batch_id IS NOT NULL AND status IN ('queued', 'sending', 'submitting')"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE deliveries RESET (fillfactor)")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_batch")
        batch.create_index("ix_deliveries_status_lease", ["status", "lease_until"], unique=False)
        batch.create_index("ix_deliveries_message", ["provider_message_id"], unique=False)
        batch.create_foreign_key(
            "fk_deliveries_campaign_id_campaigns", "campaigns", ["campaign_id"], ["id"], ondelete="CASCADE"
        )
        batch.drop_column("batch_id")
    with op.batch_alter_table("send_batches") as batch:
        batch.drop_index("ix_send_batches_status_lease")
    op.drop_table("send_batches")
