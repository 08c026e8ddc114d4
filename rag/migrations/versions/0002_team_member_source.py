"""Team members: where each membership comes from (``users_file`` when declared in the users file
and kept in step with it at start-up, ``admin`` when added in the application).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # memberships that existed before were made in the application: "admin"
    with op.batch_alter_table("team_members") as batch:
        batch.add_column(sa.Column("source", sa.String(20), nullable=False, server_default="admin"))


def downgrade() -> None:
    with op.batch_alter_table("team_members") as batch:
        batch.drop_column("source")
