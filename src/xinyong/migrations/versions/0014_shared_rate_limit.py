"""rate limit counted in the database, shared by every worker process

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25

The rate limit of the public pages and API was counted in each worker process's memory, so with
``xinyong serve --workers N`` (or several servers behind a load balancer) a client got N times the
limit. ``rate_limit_counts`` holds each client's requests of the current and the previous minute,
which every worker updates with one statement per request (``web.ratelimit``). A row lives two
minutes, and the table has no index but its key (each worker sweeps it once a minute): an update
within a minute changes no indexed column, so PostgreSQL can make it in place. On PostgreSQL the
table is UNLOGGED: its writes skip the WAL, and it is emptied after a crash, which costs nothing
but a fresh minute for every client.

The downgrade drops the table; an older platform counts in memory again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table(
        "rate_limit_counts",
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("previous_hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client", name=op.f("pk_rate_limit_counts")),
        prefixes=unlogged,
    )


def downgrade() -> None:
    op.drop_table("rate_limit_counts")
