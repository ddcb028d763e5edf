"""Outbox recipients become a list (table outbox_recipients), no longer a string to split.

Each old row's string becomes a one-element list as it stands: splitting it
on commas is the fault this revision removes. SQLite drops the old column in
place (ALTER TABLE DROP COLUMN, SQLite 3.35+): rebuilding the outbox table, as
batch mode would, is refused once outbox_recipients points at it.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_OUTBOX = sa.table("outbox", sa.column("id", sa.Integer), sa.column("recipients", sa.Text))
_RECIPIENTS = sa.table(
    "outbox_recipients",
    sa.column("outbox_id", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("address", sa.Text),
)


def upgrade() -> None:
    op.create_table(
        "outbox_recipients",
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"]),
        sa.PrimaryKeyConstraint("outbox_id", "position"),
    )
    op.create_index("ix_outbox_recipients_address", "outbox_recipients", ["address", "outbox_id"])
    as_list = sa.select(_OUTBOX.c.id, sa.literal(0), _OUTBOX.c.recipients)
    op.execute(_RECIPIENTS.insert().from_select(["outbox_id", "position", "address"], as_list))
    op.drop_index("ix_outbox_recipient_created", table_name="outbox")
    with op.batch_alter_table("outbox", recreate="never") as batch_op:
        batch_op.drop_column("recipients")


def downgrade() -> None:
    """Back to one string per row: the addresses joined by commas, as 0003 stored them."""
    op.add_column("outbox", sa.Column("recipients", sa.Text(), nullable=True))
    connection = op.get_bind()
    joined: dict[int, list[str]] = {}
    rows = sa.select(_RECIPIENTS.c.outbox_id, _RECIPIENTS.c.address).order_by(
        _RECIPIENTS.c.outbox_id, _RECIPIENTS.c.position
    )
    for outbox_id, address in connection.execute(rows):
        joined.setdefault(outbox_id, []).append(address)
    for outbox_id, addresses in joined.items():
        update = _OUTBOX.update().where(_OUTBOX.c.id == outbox_id)
        connection.execute(update.values(recipients=",".join(addresses)))
    op.drop_index("ix_outbox_recipients_address", table_name="outbox_recipients")
    op.drop_table("outbox_recipients")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("recipients", existing_type=sa.Text(), nullable=False)
        batch_op.create_index("ix_outbox_recipient_created", ["recipients", "created_at"])
