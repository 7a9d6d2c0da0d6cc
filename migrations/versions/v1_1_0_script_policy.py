"""ScriptBatch 1.1.0: a sandbox policy can be pinned to a script.

Revision ID: v1_1_0_script_policy
Revises: v1_0_0_initial
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "v1_1_0_script_policy"
down_revision: str | None = "v1_0_0_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scripts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sandbox_policy", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scripts", schema=None) as batch_op:
        batch_op.drop_column("sandbox_policy")
