"""Contacts (bouncing addresses) and an index for the loop budget's time window.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("bouncing", sa.Boolean(), nullable=False),
        sa.Column("bouncing_since", sa.DateTime(), nullable=True),
        sa.Column("last_bounce_at", sa.DateTime(), nullable=True),
        sa.Column("bounce_count", sa.Integer(), nullable=False),
        sa.Column("last_bounce_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("address"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_recipient_created", ["recipients", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_recipient_created")
    op.drop_table("contacts")
