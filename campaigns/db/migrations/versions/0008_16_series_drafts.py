"""Issue 16: the series as staff shape it (its name, each email's words, the kept and dropped blocks) stored with
each campaign version as JSON, so the editor, the series file and rendering read the same thing.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_versions") as batch:
        batch.add_column(sa.Column("series", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign_versions") as batch:
        batch.drop_column("series")
