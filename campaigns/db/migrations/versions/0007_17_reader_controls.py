"""Issue 17: reader controls and the learning loop: a pace per enrollment, what readers did from an email's links
(pacing, clicks on the call to action), "was this useful?" answers, and imported contacts put down to a lesson.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrollments") as batch:
        batch.add_column(sa.Column("pace", sa.String(length=10), nullable=False, server_default="usual"))
        batch.add_column(sa.Column("held_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "reader_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("step_number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_reader_events_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_reader_events_campaign_id_campaigns"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reader_events")),
    )
    op.create_index("ix_reader_events_campaign", "reader_events", ["campaign_id", "step_number", "kind"])
    op.create_index("ix_reader_events_subscriber", "reader_events", ["subscriber_id", "at"])
    op.create_table(
        "lesson_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("step_number", sa.Integer(), nullable=False),
        sa.Column("useful", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.String(length=300), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_lesson_feedback_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_lesson_feedback_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_feedback")),
        sa.UniqueConstraint(
            "subscriber_id",
            "campaign_id",
            "step_number",
            name=op.f("uq_lesson_feedback_subscriber_id_campaign_id_step_number"),
        ),
    )
    op.create_index("ix_lesson_feedback_campaign", "lesson_feedback", ["campaign_id", "step_number"])
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("step_number", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("imported_by", sa.String(length=120), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_contacts_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_contacts_campaign_id_campaigns"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint(
            "subscriber_id",
            "contacted_at",
            "channel",
            name=op.f("uq_contacts_subscriber_id_contacted_at_channel"),
        ),
    )
    op.create_index("ix_contacts_campaign", "contacts", ["campaign_id", "step_number"])


def downgrade() -> None:
    op.drop_index("ix_contacts_campaign", table_name="contacts")
    op.drop_table("contacts")
    op.drop_index("ix_lesson_feedback_campaign", table_name="lesson_feedback")
    op.drop_table("lesson_feedback")
    op.drop_index("ix_reader_events_subscriber", table_name="reader_events")
    op.drop_index("ix_reader_events_campaign", table_name="reader_events")
    op.drop_table("reader_events")
    with op.batch_alter_table("enrollments") as batch:
        batch.drop_column("held_until")
        batch.drop_column("pace")
