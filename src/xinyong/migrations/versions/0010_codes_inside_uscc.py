"""subjects that learnt their USCC get the organisation code and area code inside it

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23

A subject first known by its registration number (an individual business reported with the
placeholder USCC) or by its organisation code alone, whose USCC arrived in a later file, got the
USCC but not the organisation code (characters 9–17) and area code (3–8) inside it, which a
subject that arrived with its USCC has. Intake now fills them; this fills them for the subjects
stored before: the area code always, where it is empty; the organisation code where it is empty,
except when another subject without a USCC already holds that code.

That other subject is the same business, split in two: a record with only the organisation code
arrived after the USCC and, finding no subject with that code, made a new one. Merging them would
move records, versions, names and legal representatives between subjects and cannot be undone by
a downgrade, so it is left to an administrator: each such pair is logged (alembic's logger, at
warning level) with both ids and the code, and the USCC subject's organisation code stays empty
so that records with only that code keep going to the subject that holds their earlier records.
The warning gives the command that merges them (``xinyong subject merge``, added later: it shows
what a merge does, and does it with ``--apply``).

The downgrade changes nothing: the codes filled are the USCC's own and an older platform reads
them as it reads those of any subject.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# GB 32100-2015, frozen: characters 3–8 of a USCC are the area code, 9–17 the organisation code
def _area(uscc: str) -> str:
    return f"SUBSTR({uscc}, 3, 6)"


def _org(uscc: str) -> str:
    return f"SUBSTR({uscc}, 9, 9)"


def upgrade() -> None:
    conn = op.get_bind()
    # every business split in two this way, also one whose USCC subject has its organisation code
    pairs = conn.execute(sa.text(
        f"""
        SELECT s.id, s.uscc, s.org_code IS NULL AS empty, {_org("s.uscc")} AS org_code, o.id AS other_id
        FROM subjects s JOIN subjects o ON o.org_code = {_org("s.uscc")} AND o.uscc IS NULL
        WHERE s.uscc IS NOT NULL AND LENGTH(s.uscc) = 18
        ORDER BY s.id, o.id
        """
    )).all()
    split: dict[tuple, list[int]] = {}
    for pair in pairs:
        split.setdefault((pair.id, pair.uscc, bool(pair.empty), pair.org_code), []).append(pair.other_id)
    for (subject_id, uscc, empty, org_code), others in split.items():
        log.warning(
            "subject %s (USCC %s) and subject%s %s (organisation code %s, no USCC) are one business "
            "whose records are split between them: merge them%s. `xinyong subject merge %s id:%s` shows "
            "what the merge does, and does it with `--apply --reason \"…\"`%s",
            subject_id, uscc, "s" if len(others) > 1 else "", ", ".join(map(str, others)), org_code,
            f"; the organisation code of subject {subject_id} is left empty until then" if empty else "",
            uscc, others[0],
            "".join(f"; then `xinyong subject merge {uscc} id:{other}`" for other in others[1:]),
        )
    conn.execute(sa.text(
        f"""
        UPDATE subjects SET area_code = {_area("uscc")}
        WHERE uscc IS NOT NULL AND LENGTH(uscc) = 18 AND area_code IS NULL
        """
    ))
    conn.execute(sa.text(
        f"""
        UPDATE subjects SET org_code = {_org("uscc")}
        WHERE uscc IS NOT NULL AND LENGTH(uscc) = 18 AND org_code IS NULL
          AND NOT EXISTS (SELECT 1 FROM subjects o
                          WHERE o.org_code = {_org("subjects.uscc")} AND o.uscc IS NULL)
        """
    ))


def downgrade() -> None:
    pass
