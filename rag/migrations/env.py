"""Alembic environment: run with the connection that ``rag.db.upgrade_schema`` passes in.

For a developer: ``alembic -x url=sqlite:///data/users/ittifaq.db -c /dev/null`` is not needed;
new revisions are written by hand in ``versions/`` (see 0001 for the style) and checked by
``tests/test_negotiation.py::test_migrations_match_the_models``.
"""

from alembic import context
from sqlalchemy import create_engine

from rag.db import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


run()
