"""The time of each mailbox's last successful poll (status, /readyz, /metrics), and an
index of the breached SLA clocks those count at each scrape.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mailbox_polls",
        sa.Column("mailbox", sa.String(512), primary_key=True),
        sa.Column("polled_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_sla_clocks_breached", "sla_clocks", ["breached_at", "state"])


def downgrade() -> None:
    op.drop_index("ix_sla_clocks_breached", "sla_clocks")
    op.drop_table("mailbox_polls")
