"""Spent proofs: an agent's reply is applied once per (id of ours it answers, its text).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spent_proofs",
        sa.Column("proof", sa.String(998), primary_key=True),
        sa.Column("text_sha256", sa.String(64), primary_key=True),
        sa.Column("spent_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("spent_proofs")
