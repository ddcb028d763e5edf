"""Limits on the staff notices customers cause: a low survey score tells the leads once
(surveys.leads_told_at), and each sender's notices past the hourly cap are held and
folded into one (sender_notices, swept by its due time).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("surveys") as batch_op:
        batch_op.add_column(sa.Column("leads_told_at", sa.DateTime(), nullable=True))
    op.create_table(
        "sender_notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("held_since", sa.DateTime(), nullable=True),
        sa.Column("held_to", sa.Text(), nullable=False),
        sa.Column("held_tickets", sa.Text(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("sender"),
    )
    op.create_index("ix_sender_notices_due_at", "sender_notices", ["due_at"])


def downgrade() -> None:
    op.drop_table("sender_notices")
    with op.batch_alter_table("surveys") as batch_op:
        batch_op.drop_column("leads_told_at")
