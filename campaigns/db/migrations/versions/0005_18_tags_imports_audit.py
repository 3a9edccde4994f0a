"""Issue 18: tags as their own tables (filters, bulk changes and enrolment by tag go through an index instead of
reading every subscriber's JSON list), CSV imports uploaded in the admin, audit entries about one subscriber, and an
index on enrollments by subscriber (one person's page, an unsubscribe and every page of an export read them so;
the unique index leads with the campaign, so each of those read the whole table).

The tags each subscriber had in `subscribers.tags` move into `tags` / `subscriber_tags` (trimmed, lower-cased, as
the import and enrolment always compared them); the downgrade puts them back.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_TAG = 60


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=MAX_TAG), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("name", name=op.f("uq_tags_name")),
    )
    op.create_table(
        "subscriber_tags",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_subscriber_tags_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_subscriber_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("subscriber_id", "tag_id", name=op.f("pk_subscriber_tags")),
    )
    op.create_index("ix_subscriber_tags_tag", "subscriber_tags", ["tag_id", "subscriber_id"])
    op.create_index("ix_enrollments_subscriber", "enrollments", ["subscriber_id"])
    op.create_table(
        "subscriber_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.String(length=20), nullable=False),
        sa.Column("delimiter", sa.String(length=1), nullable=False),
        sa.Column("header", sa.JSON(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("default_timezone", sa.String(length=64), nullable=True),
        sa.Column("consent", sa.String(length=200), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_subscriber_imports_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriber_imports")),
    )
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("subscriber_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_audit_log_subscriber_id_subscribers"), "subscribers", ["subscriber_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_audit_log_subscriber", ["subscriber_id"])
    _move_tags_into_tables()
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("tags")


def _move_tags_into_tables() -> None:
    bind = op.get_bind()
    subscribers = sa.table("subscribers", sa.column("id", sa.Integer), sa.column("tags", sa.JSON))
    tags = sa.table("tags", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("created_at"))
    links = sa.table("subscriber_tags", sa.column("subscriber_id", sa.Integer), sa.column("tag_id", sa.Integer))
    ids: dict[str, int] = {}
    now = datetime.now(UTC)
    after = 0
    while True:  # by id cursor: a million subscribers never sit in memory at once
        rows = bind.execute(
            sa.select(subscribers.c.id, subscribers.c.tags)
            .where(subscribers.c.id > after)
            .order_by(subscribers.c.id)
            .limit(5000)
        ).all()
        if not rows:
            return
        after = rows[-1][0]
        pairs = []
        for sid, names in rows:
            for name in dict.fromkeys(" ".join(str(n).split()).lower()[:MAX_TAG] for n in (names or [])):
                if not name:
                    continue
                if name not in ids:
                    ids[name] = bind.execute(
                        sa.insert(tags).values(name=name, created_at=now).returning(tags.c.id)
                    ).scalar_one()
                pairs.append({"subscriber_id": sid, "tag_id": ids[name]})
        if pairs:
            bind.execute(sa.insert(links), pairs)


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT st.subscriber_id, t.name FROM subscriber_tags st JOIN tags t ON t.id = st.tag_id "
            "ORDER BY st.subscriber_id, t.name"
        )
    ).all()
    by_subscriber: dict[int, list[str]] = {}
    for sid, name in rows:
        by_subscriber.setdefault(sid, []).append(name)
    subscribers = sa.table("subscribers", sa.column("id", sa.Integer), sa.column("tags", sa.JSON))
    for sid, names in by_subscriber.items():
        bind.execute(sa.update(subscribers).where(subscribers.c.id == sid).values(tags=names))
    with op.batch_alter_table("subscribers") as batch:
        batch.alter_column("tags", server_default=None)
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_index("ix_audit_log_subscriber")
        batch.drop_constraint(op.f("fk_audit_log_subscriber_id_subscribers"), type_="foreignkey")
        batch.drop_column("subscriber_id")
    op.drop_table("subscriber_imports")
    op.drop_index("ix_enrollments_subscriber", table_name="enrollments")
    op.drop_index("ix_subscriber_tags_tag", table_name="subscriber_tags")
    op.drop_table("subscriber_tags")
    op.drop_table("tags")
