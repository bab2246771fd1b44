"""rejected rows kept encrypted

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22

A rejected row is kept as the department sent it, to be handed back for correction: a resident
id in it was stored in clear, although every personal identifier is encrypted at rest. Intake now
seals the row's cells with the platform's key (the same AEAD as the subjects' ids); this seals
the rows stored before. Reading accepts both, so the downgrade opens them again.

The key is the running platform's (``XINYONG_SECRET_KEY`` or ``var/secret.key``): run the
migration with the settings the platform runs with.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAGE = 5_000
rows = sa.table("batch_rejected_rows", sa.column("id", sa.BigInteger), sa.column("cells", sa.Text))


def _rewrite(sealed: bool) -> None:
    from xinyong.core.crypto import get_keyring  # the running platform's key, not frozen code

    keyring = get_keyring()
    bind = op.get_bind()
    # plain JSON objects start with "{", sealed ones with "v1:"
    wanted = rows.c.cells.like("{%") if sealed else rows.c.cells.like("v1:%")
    after = 0
    while page := bind.execute(sa.select(rows.c.id, rows.c.cells).where(wanted, rows.c.id > after)
                               .order_by(rows.c.id).limit(_PAGE)).all():
        after = page[-1].id
        bind.execute(rows.update().where(rows.c.id == sa.bindparam("row_id")).values(cells=sa.bindparam("new")),
                     [{"row_id": r.id, "new": keyring.encrypt(r.cells) if sealed else keyring.decrypt(r.cells)}
                      for r in page])


def upgrade() -> None:
    _rewrite(sealed=True)


def downgrade() -> None:
    _rewrite(sealed=False)
