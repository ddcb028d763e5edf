"""Where the desk keeps things: engine and sessions, tables, blobs, Alembic migrations."""
