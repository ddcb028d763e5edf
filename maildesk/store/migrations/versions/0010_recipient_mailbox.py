"""The loop budget counts mailboxes: each envelope address with its mailbox and domain.

`victim+1@`, `victim+2@` and `VICTIM@` reach one mailbox; counting address
strings gave each a budget of its own. Every outbox recipient gets the
mailbox and domain (addresses.mailbox, with the default separator "+": a
desk that set another counts its last day of old rows with "+"), and
automatic mail to customers its `budget_at`, so each budget is one range
of one index. Contacts keep the Message-ID of an unconfirmed bounce.

SQLite rebuilds outbox_recipients to make the columns NOT NULL; nothing
points at that table, so it may (unlike outbox, see 0004).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from maildesk.mail.addresses import mailbox

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BATCH = 1000
BUDGETED = ("ack", "status_update", "survey")  # loops.BUDGETED_KINDS when this was written
_RECIPIENTS = sa.table(
    "outbox_recipients",
    sa.column("outbox_id", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("address", sa.Text),
    sa.column("mailbox", sa.Text),
    sa.column("domain", sa.Text),
    sa.column("budget_at", sa.DateTime),
)
_OUTBOX = sa.table(
    "outbox", sa.column("id", sa.Integer), sa.column("kind"), sa.column("created_at")
)


def upgrade() -> None:
    for name in ("mailbox", "domain"):
        op.add_column("outbox_recipients", sa.Column(name, sa.Text(), nullable=True))
    op.add_column("outbox_recipients", sa.Column("budget_at", sa.DateTime(), nullable=True))
    _fill_mailboxes()
    created = (
        sa.select(_OUTBOX.c.created_at)
        .where(_OUTBOX.c.id == _RECIPIENTS.c.outbox_id, _OUTBOX.c.kind.in_(BUDGETED))
        .scalar_subquery()
    )
    op.execute(_RECIPIENTS.update().values(budget_at=created))
    with op.batch_alter_table("outbox_recipients") as batch:
        for name in ("mailbox", "domain"):
            batch.alter_column(name, existing_type=sa.Text(), nullable=False)
        batch.drop_index("ix_outbox_recipients_address")
        batch.create_index("ix_outbox_recipients_mailbox", ["mailbox", "budget_at"])
        batch.create_index("ix_outbox_recipients_domain", ["domain", "budget_at"])
    op.add_column("contacts", sa.Column("unconfirmed_bounce", sa.String(998), nullable=True))


def _fill_mailboxes() -> None:
    """Each old row's mailbox and domain, a batch at a time in key order."""
    connection = op.get_bind()
    key = sa.tuple_(_RECIPIENTS.c.outbox_id, _RECIPIENTS.c.position)
    page = sa.select(_RECIPIENTS.c.outbox_id, _RECIPIENTS.c.position, _RECIPIENTS.c.address)
    page = page.order_by(_RECIPIENTS.c.outbox_id, _RECIPIENTS.c.position).limit(BATCH)
    fill = (
        _RECIPIENTS.update()
        .where(
            _RECIPIENTS.c.outbox_id == sa.bindparam("row_id"),
            _RECIPIENTS.c.position == sa.bindparam("row_position"),
        )
        .values(mailbox=sa.bindparam("found"), domain=sa.bindparam("found_domain"))
    )
    after = None
    while rows := connection.execute(page if after is None else page.where(key > after)).all():
        values = []
        for outbox_id, position, address in rows:
            found = mailbox(address)
            values.append(
                {"row_id": outbox_id, "row_position": position, "found": found}
                | {"found_domain": found.rpartition("@")[2]}
            )
        connection.execute(fill, values)
        after = sa.tuple_(*rows[-1][:2])


def downgrade() -> None:
    with op.batch_alter_table("contacts", recreate="never") as batch:
        batch.drop_column("unconfirmed_bounce")
    with op.batch_alter_table("outbox_recipients") as batch:
        batch.drop_index("ix_outbox_recipients_domain")
        batch.drop_index("ix_outbox_recipients_mailbox")
        for name in ("budget_at", "domain", "mailbox"):
            batch.drop_column(name)
        batch.create_index("ix_outbox_recipients_address", ["address", "outbox_id"])
