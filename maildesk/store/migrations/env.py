"""Alembic environment: runs migrations on the connection maildesk hands over."""

from alembic import context

from maildesk.store import deadline_tables, intake_tables, kb_tables  # noqa: F401 - their tables join the metadata
from maildesk.store.tables import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
