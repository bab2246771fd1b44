"""audit chain keyed with the platform's secret key

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23

Until now an audit entry's hash was plain SHA-256 over the previous entry's hash and the entry's
fields: whoever could write the database could alter an entry, recompute every later hash and the
head, and `xinyong audit verify` found the chain intact. The hash is now HMAC-SHA256 with a key
derived from the platform's secret key (``xinyong audit chain v1``), which the database does not
hold; the fields and their serialisation are unchanged. The upgrade chains the stored entries
again with the keyed digest, the downgrade with the unkeyed one.

Each entry is checked with the digest it was chained with before it is chained again, and the
head after the last entry. If the stored chain is broken, the migration does not bless it: it
chains again only the entries before the first bad one, leaves that entry, every later one and
the head as they were, and logs the break (alembic's logger, at warning level) with its sequence
number. `xinyong audit verify` then reports the break at the same entry as before, and it cannot
be hidden afterwards without the key. Refusing to upgrade was the other choice: it would keep the
platform from starting until the log was "repaired", and the only repair is to rewrite the audit
log, which is what must not happen.

The key is the running platform's (``XINYONG_SECRET_KEY`` or ``var/secret.key``): run the
migration with the settings the platform runs with. Run with another key, the upgrade chains the
log with a key the platform does not have, and the downgrade finds the first entry broken.
"""

import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Callable, Sequence

import orjson
import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

_PAGE = 5_000
_GENESIS = "0" * 64
_PURPOSE = b"xinyong audit chain v1"

entries = sa.table(
    "audit_log", sa.column("id", sa.BigInteger), sa.column("seq", sa.BigInteger),
    sa.column("at", sa.DateTime(timezone=True)), sa.column("actor", sa.String),
    sa.column("action", sa.String), sa.column("target_type", sa.String), sa.column("target_id", sa.String),
    sa.column("subject_id", sa.BigInteger), sa.column("ip", sa.String), sa.column("before", sa.Text),
    sa.column("after", sa.Text), sa.column("prev_hash", sa.String), sa.column("hash", sa.String),
)
head = sa.table("audit_head", sa.column("id", sa.Integer), sa.column("seq", sa.BigInteger),
                sa.column("hash", sa.String))

Digest = Callable[[str, sa.Row], str]


# Frozen copies of ``xinyong.core.audit._digest`` before and after this migration: a migration
# must give the same result whatever the code becomes later.
def _canonical(prev_hash: str, entry: sa.Row) -> bytes:
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=dt.UTC)  # SQLite's are naive, in UTC
    return prev_hash.encode() + orjson.dumps(
        [entry.seq, at.astimezone(dt.UTC).isoformat(timespec="microseconds"), entry.actor, entry.action,
         entry.target_type, entry.target_id, entry.subject_id, entry.ip, entry.before, entry.after],
    )


def _unkeyed(prev_hash: str, entry: sa.Row) -> str:
    return hashlib.sha256(_canonical(prev_hash, entry)).hexdigest()


def _keyed() -> Digest:
    from xinyong.core.crypto import derive_key  # the running platform's master key, not frozen code

    key = derive_key(_PURPOSE)
    return lambda prev_hash, entry: hmac.new(key, _canonical(prev_hash, entry), hashlib.sha256).hexdigest()


def upgrade() -> None:
    _rechain(stored=_unkeyed, new=_keyed(), name="keyed")


def downgrade() -> None:
    _rechain(stored=_keyed(), new=_unkeyed, name="unkeyed")


def _rechain(stored: Digest, new: Digest, name: str) -> None:
    """Chain the entries again with ``new``, checking each with ``stored`` first; stop at the
    first that does not verify and leave it, the later ones and the head as they were."""
    conn = op.get_bind()
    expected, stored_prev, new_prev = 1, _GENESIS, _GENESIS
    problem: str | None = None
    while problem is None and (page := conn.execute(
            sa.select(entries).where(entries.c.seq >= expected).order_by(entries.c.seq).limit(_PAGE)).all()):
        chained = []
        for entry in page:
            if entry.seq != expected:
                problem = f"entries {expected} to {entry.seq - 1} are missing"
            elif stored(entry.prev_hash, entry) != entry.hash:
                problem = f"entry {entry.seq} does not match its hash (altered, or chained with another key)"
            elif entry.prev_hash != stored_prev:
                problem = f"entry {entry.seq} does not follow the one before (inserted or replaced)"
            if problem:
                break
            digest = new(new_prev, entry)
            chained.append({"entry_id": entry.id, "prev": new_prev, "digest": digest})
            stored_prev, new_prev, expected = entry.hash, digest, expected + 1
        if chained:
            conn.execute(entries.update().where(entries.c.id == sa.bindparam("entry_id"))
                         .values(prev_hash=sa.bindparam("prev"), hash=sa.bindparam("digest")), chained)
    last = expected - 1
    if problem is None:
        newest = conn.execute(sa.select(head.c.seq, head.c.hash).where(head.c.id == 1)).first()
        if newest is None and last:
            problem = "the head is missing"
        elif newest is not None and (newest.seq, newest.hash) != (last, stored_prev):
            problem = f"the head (entry {newest.seq}) does not match the newest entry ({last})"
        elif newest is not None:
            conn.execute(head.update().where(head.c.id == 1).values(hash=new_prev))
    if problem:
        log.warning("audit log: the chain is broken: %s. %s chained with the %s digest; the rest and the head "
                    "are left as they were, so `xinyong audit verify` reports the break.",
                    problem, f"Entries 1 to {last} are" if last else "No entry is", name)
