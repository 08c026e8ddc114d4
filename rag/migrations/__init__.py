"""Alembic migrations of the negotiation database (run by ``rag.db.upgrade_schema``; no alembic.ini needed)."""
