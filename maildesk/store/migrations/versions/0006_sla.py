"""SLA clocks and their ledger, and the daily digests sent.

Tickets already open get no clocks: their targets were never promised
by this desk. New tickets get theirs when they open.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LEVEL_FIRED = "uq_sla_events_level"


def upgrade() -> None:
    op.create_table(
        "sla_clocks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("clock", sa.String(16), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("target_seconds", sa.Float(), nullable=False),
        sa.Column("calendar", sa.String(64), nullable=False),
        sa.Column("used_seconds", sa.Float(), nullable=False),
        sa.Column("running_since", sa.DateTime(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("breached_at", sa.DateTime(), nullable=True),
        sa.Column("ladder_share", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("ticket_id", "clock"),
    )
    op.create_index("ix_sla_clocks_next_at", "sla_clocks", ["next_at"])
    op.create_table(
        "sla_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("clock", sa.String(16), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("level", sa.String(32), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_sla_events_ticket_id", "sla_events", ["ticket_id"])
    where = sa.text("kind = 'level'")
    op.create_index(
        LEVEL_FIRED,
        "sla_events",
        ["ticket_id", "clock", "run", "level"],
        unique=True,
        sqlite_where=where,
        postgresql_where=where,
    )
    op.create_table(
        "sla_digests",
        sa.Column("agent", sa.String(320), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("agent", "day"),
    )


def downgrade() -> None:
    op.drop_table("sla_digests")
    op.drop_index(LEVEL_FIRED, table_name="sla_events")
    op.drop_index("ix_sla_events_ticket_id", table_name="sla_events")
    op.drop_table("sla_events")
    op.drop_index("ix_sla_clocks_next_at", table_name="sla_clocks")
    op.drop_table("sla_clocks")
