"""Several workers and mailboxes on one database: UIDs as unsigned 32-bit numbers, one
incoming copy per Message-ID, ticket numbers from a sequence on PostgreSQL, and
the mailbox each ticket came in by, when an agent first answered, the
summary a ticket was resolved with, the ticket it was merged into, its tags.

UIDVALIDITY and UIDs go up to 2^32 - 1 (RFC 3501); PostgreSQL's INTEGER stops
at 2^31 - 1, and some servers (pymap) pick larger values. SQLite's INTEGER
holds 64 bits already, so only PostgreSQL's columns change.

Before the unique index, an incoming Message-ID stored twice (two workers
racing, before this revision) keeps its first row; the later rows lose only
the indexed copy of the header, which their raw bytes still hold.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_UID_COLUMNS = (
    ("receipts", "uidvalidity"),
    ("receipts", "uid"),
    ("cursors", "uidvalidity"),
    ("cursors", "last_uid"),
)
INCOMING_ID_INDEX = "uq_messages_incoming_message_id"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for table, column in _UID_COLUMNS:
            op.alter_column(table, column, type_=sa.BigInteger(), existing_nullable=False)
    op.execute(
        "UPDATE messages SET message_id = NULL WHERE direction = 'in' AND message_id IS NOT NULL"
        " AND id NOT IN (SELECT MIN(id) FROM messages WHERE direction = 'in'"
        " AND message_id IS NOT NULL GROUP BY message_id)"
    )
    op.add_column("tickets", sa.Column("mailbox", sa.String(64), nullable=True))
    op.add_column("tickets", sa.Column("first_response_at", sa.DateTime(), nullable=True))
    op.add_column("tickets", sa.Column("resolution", sa.Text(), nullable=True))
    # The id of the surviving ticket. No foreign key: SQLite would rebuild the table,
    # which the rows pointing at it forbid (see 0004).
    op.add_column("tickets", sa.Column("merged_into", sa.Integer(), nullable=True))
    op.create_table(
        "ticket_tags",
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", "tag"),
    )
    op.create_index("ix_tickets_mailbox", "tickets", ["mailbox"])
    where = sa.text("direction = 'in' AND message_id IS NOT NULL")
    op.create_index(
        INCOMING_ID_INDEX,
        "messages",
        ["message_id"],
        unique=True,
        sqlite_where=where,
        postgresql_where=where,
    )
    if postgres:
        op.execute("CREATE SEQUENCE ticket_numbers")
        op.execute(
            "SELECT setval('ticket_numbers', COALESCE((SELECT MAX(number) FROM tickets), 0) + 1,"
            " false)"
        )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(
            "INSERT INTO counters (name, value) SELECT 'ticket', COALESCE(MAX(number), 0)"
            " FROM tickets ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value"
        )
        op.execute("DROP SEQUENCE ticket_numbers")
    op.drop_index(INCOMING_ID_INDEX, "messages")
    op.drop_index("ix_tickets_mailbox", "tickets")
    op.drop_column("tickets", "mailbox")
    op.drop_column("tickets", "first_response_at")
    op.drop_column("tickets", "resolution")
    op.drop_table("ticket_tags")
    op.drop_column("tickets", "merged_into")
    if postgres:
        for table, column in _UID_COLUMNS:
            op.alter_column(table, column, type_=sa.Integer(), existing_nullable=False)
