"""Subscribers get a first name to greet by and a country (crisis lines fit it); deliveries get the random local
part of their Message-ID, decided once per delivery.

All three are nullable: existing subscribers are greeted from `name` and get the crisis lines of their time zone's
country; existing deliveries get a random Message-ID when sent.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 12:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("first_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("country", sa.String(length=2), nullable=True))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("message_token", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("message_token")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("country")
        batch.drop_column("first_name")
