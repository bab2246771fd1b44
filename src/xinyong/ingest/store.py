"""Bulk storage of a batch: validated rows go to a staging table, then merge set-based.

On PostgreSQL rows arrive through COPY, on SQLite through executemany; the merge statements
are the same SQL on both. Subjects, names, legal representatives, records and versions are
resolved and written by a fixed sequence of INSERT … SELECT / UPDATE … FROM statements, so
the cost per row stays in the database's own code and memory stays flat.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg._copy_base import format_row_text  # the driver's own (C) COPY row formatter
from psycopg.adapt import Transformer
from sqlalchemy import text
from sqlalchemy.orm import Session

from xinyong.core import ids
from xinyong.core.text import with_controls_shown
from xinyong.subjects import service as subjects

STAGING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("line", "INTEGER"),
    ("subject_key", "TEXT"),
    ("subject_kind", "TEXT"),
    ("category", "TEXT"),
    ("uscc", "TEXT"),
    ("org_code", "TEXT"),
    ("reg_no", "TEXT"),
    ("person_index", "TEXT"),
    ("person_cipher", "TEXT"),
    ("person_masked", "TEXT"),
    ("person_id_type", "TEXT"),
    ("subject_name", "TEXT"),
    ("name_norm", "TEXT"),
    ("area_code", "TEXT"),
    ("legal_rep", "TEXT"),
    ("lr_id_type", "TEXT"),
    ("lr_index", "TEXT"),
    ("lr_cipher", "TEXT"),
    ("lr_masked", "TEXT"),
    ("authority_uscc", "TEXT"),
    ("decision_no", "TEXT"),
    ("decision_key", "TEXT"),  # the number with its spelling folded: the identity compares this
    ("source_uscc", "TEXT"),  # the source department, its id in stg_departments
    ("content_hash", "TEXT"),
    ("key_hash", "TEXT"),  # the content with the decision number's key for its spelling
    ("decision_date", "DATE"),
    ("penalty_class", "TEXT"),
    ("class_reason", "TEXT"),
    ("class_rule", "TEXT"),
    ("published", "BOOLEAN"),
    ("pub_min_end", "DATE"),
    ("pub_end", "DATE"),
    ("pub_rule", "TEXT"),
    ("deadline", "DATE"),
    ("deadline_provisional", "BOOLEAN"),
    ("deadline_rule", "TEXT"),
    ("on_time", "BOOLEAN"),
)
STAGING_FIELDS = tuple(name for name, _ in STAGING_COLUMNS)
# The wide part of a row (the record's data as JSON) sits in its own insert-only table, so that
# the merge's updates of ``stg`` rewrite narrow rows only.
PAYLOAD_FIELDS = ("line", "data")
# filled in by the merge
MERGE_COLUMNS = (
    ("subject_id", "BIGINT"),
    ("record_id", "BIGINT"),
    ("base_version", "INTEGER"),
    ("stored_hash", "TEXT"),
    ("stored_key_hash", "TEXT"),
    ("stored_no", "TEXT"),
    ("moved_from", "BIGINT"),  # the party of a stored record this row corrects to another party
    ("outcome", "TEXT"),
    ("version", "INTEGER"),
)
ISSUE_FIELDS = ("severity", "line", "field", "code", "message")
COMPLETION_PAGE = 2000  # rows completed from their records at a time (``Staging._complete_from_records``)


TEMP_TABLES = {
    "stg": ", ".join(f"{n} {t}" for n, t in (*STAGING_COLUMNS, *MERGE_COLUMNS)),
    "stg_payload": "line INTEGER PRIMARY KEY, data TEXT",
    # seq keeps the order in which the issues were found (a row's errors in column order); the
    # merge's own warnings have none and come after the others of their line
    "stg_issues": "severity TEXT, line INTEGER, field TEXT, code TEXT, message TEXT, seq BIGINT",
    "stg_departments": "uscc TEXT PRIMARY KEY, id BIGINT",
    # subjects found by a weaker code that a row's USCC is learnt for (per merge, usually none)
    "stg_learnt": "subject_id BIGINT PRIMARY KEY, uscc TEXT",
    # stored records of numbers whose rows did not find their own party's record (per merge)
    "stg_others": "record_id BIGINT, subject_id BIGINT, authority_uscc TEXT, decision_key TEXT, "
                  "decision_no TEXT, current_version INTEGER, current_hash TEXT, current_key_hash TEXT, "
                  "parties INTEGER, "
                  "listed BOOLEAN",
    # rows of stored records completed with values of the version they correct (per merge): their
    # data and hashes so completed, their class when decided again, the warning that says so
    "stg_kept": "line INTEGER PRIMARY KEY, data TEXT, content_hash TEXT, key_hash TEXT, decided BOOLEAN, "
                "penalty_class TEXT, class_reason TEXT, class_rule TEXT, published BOOLEAN, pub_min_end DATE, "
                "pub_end DATE, pub_rule TEXT, field TEXT, message TEXT",
    # every (identity, party) the batch has listed so far: merges in steps see the earlier rows
    "stg_seen": "authority_uscc TEXT, decision_key TEXT, subject_id BIGINT, first_line INTEGER, "
                "PRIMARY KEY (authority_uscc, decision_key, subject_id)",
}


@dataclass(frozen=True)
class Completion:
    """What a row that corrects a stored record takes from the version it corrects: the value of
    every field its file has no column for. A column absent says nothing (the department's system
    does not send it); an empty cell in a column the file has clears the value."""

    fields: Sequence[tuple[str, str]]  # (key, label) of each field the file has no column for
    # of those, what a penalty's class and publication are decided from: when one is kept, the
    # class is decided again from the data so completed and the row is warned (kept_from_record)
    class_fields: frozenset[str]
    # fields the layout fills with a default rather than reading them (the 2016 layout's 处罚有效期)
    defaulted: frozenset[str]
    # a document type with its number (证件类型 → 证件号码): kept only when the number is
    type_of: dict[str, str]
    # the fields that describe the party: not kept by a row that moves the record to its party
    party_fields: frozenset[str]
    # the class and publication of a penalty from its data, decision date, authority, category
    decide_again: Callable[[dict[str, Any], dt.date, str, str | None], tuple[Any, ...]] | None
    # the content hash and key hash of a version's data (``_RowBuilder.version_hashes``)
    hashes: Callable[[dict[str, str], str | None, str], tuple[str, str]]


class Staging:
    """The staging tables of one batch, inside the batch's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self._issues_written = 0

    def _exec(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        return self.session.execute(text(sql), params or {})

    def create(self) -> None:
        # PostgreSQL drops them with the transaction; SQLite keeps temp tables for the connection
        self.drop()
        suffix = " ON COMMIT DROP" if self.dialect == "postgresql" else ""
        for name, columns in TEMP_TABLES.items():
            self._exec(f"CREATE TEMP TABLE {name} ({columns}){suffix}")

    def drop(self) -> None:
        if self.dialect != "postgresql":
            for name in TEMP_TABLES:
                self._exec(f"DROP TABLE IF EXISTS temp.{name}")

    def _dbapi(self) -> Any:
        return self.session.connection().connection.dbapi_connection

    def encoder(self) -> Callable[[Sequence[tuple[Any, ...]]], Any]:
        """What turns rows into what ``write_rows`` takes; it needs no connection, so the
        preparing thread runs it (COPY text for PostgreSQL, the rows themselves for SQLite)."""
        if self.dialect == "postgresql":
            return _CopyText().encode
        return list

    def write_rows(self, rows: Any, payloads: Any, count: int) -> None:
        """Stage ``count`` encoded rows (``STAGING_FIELDS`` order) and their payloads (line, data)."""
        if not count:
            return
        if self.dialect == "postgresql":
            with self._dbapi().cursor() as cur:
                with cur.copy(f"COPY stg ({', '.join(STAGING_FIELDS)}) FROM STDIN") as copy:
                    copy.write(rows)
                with cur.copy("COPY stg_payload (line, data) FROM STDIN") as copy:
                    copy.write(payloads)
        else:
            marks = ", ".join("?" for _ in STAGING_FIELDS)
            cur = self._dbapi().cursor()
            cur.executemany(f"INSERT INTO stg ({', '.join(STAGING_FIELDS)}) VALUES ({marks})", rows)
            cur.executemany("INSERT INTO stg_payload (line, data) VALUES (?, ?)", payloads)
            cur.close()

    def add_departments(self, ids: Iterable[tuple[str, int]]) -> None:
        """Source departments of the staged rows: (USCC, id)."""
        for uscc, department_id in ids:
            self._exec("INSERT INTO stg_departments (uscc, id) VALUES (:uscc, :id)",
                       {"uscc": uscc, "id": department_id})

    def write_issues(self, issues: Iterable[tuple[Any, ...]]) -> None:
        """Stage issues (``ISSUE_FIELDS`` order), numbered in the order given."""
        start = self._issues_written
        # a message may quote a cell holding a NUL, which no text column takes: it shows it (〈NUL〉)
        shown = with_controls_shown
        batch = [(severity, line, field and shown(field), code, shown(message), start + i)
                 for i, (severity, line, field, code, message) in enumerate(issues)]
        if not batch:
            return
        self._issues_written += len(batch)
        columns = ", ".join((*ISSUE_FIELDS, "seq"))
        if self.dialect == "postgresql":
            with self._dbapi().cursor() as cur, cur.copy(f"COPY stg_issues ({columns}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(row)
        else:
            cur = self._dbapi().cursor()
            cur.executemany(f"INSERT INTO stg_issues ({columns}) VALUES (?, ?, ?, ?, ?, ?)", batch)
            cur.close()

    def take_foreign_decisions(self, kind: str, sender_id: int) -> list[tuple[int, str, str]]:
        """Take out of the staging tables the rows of decisions that another department than
        the sender has stored (a decision is its deciding authority's number: its rows found
        by their authority and number, whatever their party). Such a row would become that
        department's record's correction, or one more party of its decision, under the sender.
        Returns (line, decision number, the row's data) in line order — not which department
        stored the decision, which the sender is not told; most batches have none, and this
        costs one index probe per staged row."""
        x = self._exec
        foreign = """
            FROM records r WHERE r.kind = :kind AND r.authority_uscc = stg.authority_uscc
              AND r.decision_key = stg.decision_key AND r.department_id <> :sender"""
        params = {"kind": kind, "sender": sender_id}
        found = x(
            f"""
            SELECT stg.line, stg.decision_no, p.data
            FROM stg JOIN stg_payload p ON p.line = stg.line
            WHERE EXISTS (SELECT 1 {foreign})
            ORDER BY stg.line
            """,
            params,
        ).all()
        if found:
            x(f"DELETE FROM stg WHERE EXISTS (SELECT 1 {foreign})", params)
            x("DELETE FROM stg_payload WHERE line NOT IN (SELECT line FROM stg)")
        return [(line, number, data) for line, number, data in found]

    # -- the merge -------------------------------------------------------------------------

    def merge(
        self, *, kind: str, item_code: str, batch_id: int, now: dt.datetime, name_header: str,
        number_header: str, uscc_header: str, completion: Completion | None = None,
        class_header: str | None = None, end_headers: tuple[str, str] | None = None,
    ) -> dict[str, int]:
        """Resolve subjects and records and write them; returns the count of each outcome.

        ``completion``: the fields the file has no column for, which a correction keeps from the
        version it corrects. ``class_header`` (penalties): where a correction whose class or
        publication changes is warned (``class_changed``); ``end_headers``: the columns of the
        decision date and of 公示截止期, where a correction that moves only the publication's end
        is warned (``publication_end_changed``)."""
        x = self._exec
        if self.dialect == "postgresql":
            # PostgreSQL joins the staging table by hashing; indexes on it would only make every
            # UPDATE below rewrite them (no HOT updates on full pages)
            # a small sample is enough for the planner to see the table's size and NULLs
            x("SET LOCAL default_statistics_target = 10")
            x("ANALYZE stg")
        else:
            # SQLite joins by nested loops: the staging table needs its lookup indexes
            for column in ("uscc", "org_code", "reg_no", "person_index", "subject_key", "line"):
                x(f"CREATE INDEX IF NOT EXISTS stg_{column} ON stg ({column})")
            x("CREATE INDEX IF NOT EXISTS stg_identity ON stg (authority_uscc, decision_key, line)")
        params = {"batch": batch_id, "now": _db_time(now, self.dialect)}

        # 1. subjects: match by each code in order of authority; create what is missing,
        #    one code kind at a time so that a later row's weaker code finds the new subject.
        resolvers = (
            ("uscc", "s.uscc = stg.uscc"),
            ("org_code", "s.org_code = stg.org_code AND (s.uscc IS NULL OR stg.uscc IS NULL)"),
            ("reg_no", "s.reg_no = stg.reg_no AND (s.uscc IS NULL OR stg.uscc IS NULL)"),
            ("person_index", "s.person_index = stg.person_index"),
        )

        def resolve() -> None:
            for column, condition in resolvers:
                x(
                    f"UPDATE stg SET subject_id = s.id FROM subjects s "
                    f"WHERE stg.subject_id IS NULL AND stg.{column} IS NOT NULL AND {condition}"
                )

        resolve()
        # a USCC learnt for a subject found by a weaker code, before anything is created: the
        # codes it brings (organisation code, area) then find the subject for the other rows
        if self._learn_uscc(uscc_header):
            resolve()
        for column, _ in resolvers:
            created = x(
                f"""
                INSERT INTO subjects (kind, category, uscc, org_code, reg_no, person_index,
                    person_cipher, person_masked, person_id_type, name, name_norm, name_as_of,
                    area_code, created_at, created_batch_id)
                SELECT subject_kind, category, uscc, org_code, reg_no, person_index, person_cipher,
                    person_masked, person_id_type, subject_name, name_norm, decision_date,
                    area_code, :now, :batch
                FROM stg WHERE line IN (
                    SELECT MIN(line) FROM stg
                    WHERE subject_id IS NULL AND {column} IS NOT NULL GROUP BY subject_key)
                """,
                params,
            )
            if created.rowcount:  # no new subject, nothing more to resolve
                resolve()
        if self.dialect != "postgresql":
            x("CREATE INDEX IF NOT EXISTS stg_subject_id ON stg (subject_id)")
        # a registration number learnt later fills the gap on a subject first known by another code
        x(
            """
            UPDATE subjects SET reg_no = x.code
            FROM (SELECT stg.subject_id, MIN(stg.reg_no) AS code
                  FROM stg JOIN subjects s ON s.id = stg.subject_id
                  WHERE stg.reg_no IS NOT NULL AND s.reg_no IS NULL
                  GROUP BY stg.subject_id) x
            WHERE subjects.id = x.subject_id
              AND NOT EXISTS (SELECT 1 FROM subjects o WHERE o.reg_no = x.code)
            """
        )

        # 2. names: a code arriving under a name never seen for it is a warning, not an error,
        #    on the first row that brings the name (later rows find it in the name history)
        x(
            """
            INSERT INTO stg_issues (severity, line, field, code, message)
            SELECT 'warning', stg.line, :name_header, 'subject_renamed',
                   '代码 ' || COALESCE(stg.uscc, stg.org_code, stg.reg_no, stg.person_masked)
                   || ' 已登记的名称为“' || s.name || '”，本行为“' || stg.subject_name
                   || '”：已记入名称历史'
            FROM stg JOIN subjects s ON s.id = stg.subject_id
            JOIN (SELECT MIN(line) AS line FROM stg GROUP BY subject_id, name_norm) f
              ON f.line = stg.line
            WHERE stg.name_norm <> s.name_norm
              AND NOT EXISTS (SELECT 1 FROM subject_names n
                              WHERE n.subject_id = stg.subject_id AND n.name_norm = stg.name_norm)
            """,
            {"name_header": name_header},
        )
        x(
            """
            INSERT INTO subject_names (subject_id, name, name_norm, first_seen_on, last_seen_on,
                                       first_batch_id)
            SELECT subject_id, MIN(subject_name), name_norm, MIN(decision_date), MAX(decision_date),
                   :batch
            FROM stg
            WHERE NOT EXISTS (SELECT 1 FROM subject_names n
                              WHERE n.subject_id = stg.subject_id AND n.name_norm = stg.name_norm)
            GROUP BY subject_id, name_norm
            """,
            params,
        )
        x(
            """
            UPDATE subject_names SET
                first_seen_on = CASE WHEN a.first_on < subject_names.first_seen_on
                                     THEN a.first_on ELSE subject_names.first_seen_on END,
                last_seen_on = CASE WHEN a.last_on > subject_names.last_seen_on
                                    THEN a.last_on ELSE subject_names.last_seen_on END
            FROM (SELECT subject_id, name_norm, MIN(decision_date) AS first_on,
                         MAX(decision_date) AS last_on
                  FROM stg GROUP BY subject_id, name_norm) a
            WHERE subject_names.subject_id = a.subject_id AND subject_names.name_norm = a.name_norm
              AND (a.first_on < subject_names.first_seen_on OR a.last_on > subject_names.last_seen_on)
            """
        )
        x(
            """
            UPDATE subjects SET name = x.subject_name, name_norm = x.name_norm,
                                name_as_of = x.decision_date
            FROM (SELECT subject_id, subject_name, name_norm, decision_date,
                         ROW_NUMBER() OVER (PARTITION BY subject_id
                                            ORDER BY decision_date DESC, line DESC) AS rn
                  FROM stg) x
            WHERE x.rn = 1 AND subjects.id = x.subject_id
              AND (x.decision_date > subjects.name_as_of
                   OR (x.decision_date = subjects.name_as_of AND x.name_norm <> subjects.name_norm))
            """
        )

        # 3. legal representatives
        x(
            """
            INSERT INTO legal_representatives (subject_id, name, id_type, id_index, id_cipher,
                                               id_masked, first_seen_on, last_seen_on)
            SELECT subject_id, legal_rep, COALESCE(MIN(lr_id_type), ''), COALESCE(lr_index, ''),
                   MIN(lr_cipher), MIN(lr_masked), MIN(decision_date), MAX(decision_date)
            FROM stg
            WHERE legal_rep IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM legal_representatives l
                              WHERE l.subject_id = stg.subject_id AND l.name = stg.legal_rep
                                AND l.id_index = COALESCE(stg.lr_index, ''))
            GROUP BY subject_id, legal_rep, COALESCE(lr_index, '')
            """
        )
        x(
            """
            UPDATE legal_representatives SET last_seen_on = a.last_on
            FROM (SELECT subject_id, legal_rep, COALESCE(lr_index, '') AS idx,
                         MAX(decision_date) AS last_on
                  FROM stg WHERE legal_rep IS NOT NULL
                  GROUP BY subject_id, legal_rep, COALESCE(lr_index, '')) a
            WHERE legal_representatives.subject_id = a.subject_id
              AND legal_representatives.name = a.legal_rep
              AND legal_representatives.id_index = a.idx
              AND a.last_on > legal_representatives.last_seen_on
            """
        )

        # 4. records: identity is (kind, authority USCC, decision number compared by its key).
        #    One decision may name several parties (共同违法): a file lists each on its own row
        #    under the same number, and each party has its own record. So a row goes to the
        #    record of its own party; failing that, the number's only stored record in force
        #    whose party this file does not list is being corrected (its party with it), by the
        #    file's first party under that number; anything else is one more party of the
        #    decision (a revoked record, e.g. of a party named wrongly, is never moved).
        x(
            """
            INSERT INTO stg_seen (authority_uscc, decision_key, subject_id, first_line)
            SELECT authority_uscc, decision_key, subject_id, MIN(line) FROM stg
            GROUP BY authority_uscc, decision_key, subject_id
            ON CONFLICT DO NOTHING
            """
        )

        def attach_records() -> None:
            x(
                """
                UPDATE stg SET record_id = r.id, base_version = r.current_version,
                               stored_hash = r.current_hash, stored_key_hash = r.current_key_hash,
                               stored_no = r.decision_no
                FROM records r
                WHERE stg.record_id IS NULL AND r.kind = :kind
                  AND r.authority_uscc = stg.authority_uscc AND r.decision_key = stg.decision_key
                  AND r.subject_id = stg.subject_id
                """,
                {"kind": kind},
            )

        attach_records()
        # the stored records in force of the numbers some row did not find its party's record
        # under (few: most rows find theirs, or their number is new)
        x(
            """
            INSERT INTO stg_others (record_id, subject_id, authority_uscc, decision_key, decision_no,
                                    current_version, current_hash, current_key_hash, parties,
                                    listed)
            SELECT r.id, r.subject_id, r.authority_uscc, r.decision_key, r.decision_no,
                   r.current_version, r.current_hash, r.current_key_hash,
                   COUNT(*) OVER (PARTITION BY r.authority_uscc, r.decision_key),
                   EXISTS (SELECT 1 FROM stg_seen e
                           WHERE e.authority_uscc = r.authority_uscc
                             AND e.decision_key = r.decision_key AND e.subject_id = r.subject_id)
            FROM (SELECT DISTINCT authority_uscc, decision_key FROM stg WHERE record_id IS NULL) n
            JOIN records r ON r.kind = :kind AND r.authority_uscc = n.authority_uscc
                          AND r.decision_key = n.decision_key
            WHERE r.revoked_at IS NULL
            """,
            {"kind": kind},
        )
        others = x("SELECT COUNT(*) FROM stg_others").scalar_one()
        if others:
            self._other_parties(kind, name_header, number_header)
            x("DELETE FROM stg_others")
        if completion is not None and completion.fields:
            self._complete_from_records(completion)
        # within the file, each row compares with the row before it of the same identity;
        # the first compares with what is stored. New and corrected rows number the versions.
        x(
            """
            UPDATE stg SET outcome = o.outcome,
                           version = CASE WHEN o.outcome <> 'unchanged'
                                          THEN COALESCE(stg.base_version, 0) + o.n END
            FROM (SELECT line, outcome,
                         COUNT(*) FILTER (WHERE outcome <> 'unchanged')
                             OVER (PARTITION BY authority_uscc, decision_key, subject_id ORDER BY line
                                   ROWS UNBOUNDED PRECEDING) AS n
                  FROM (SELECT line, authority_uscc, decision_key, subject_id, CASE
                                   WHEN rn = 1 AND record_id IS NULL THEN 'new'
                                   -- the file ends where the record already is (a file that
                                   -- corrects a row of its own, sent again): nothing changes
                                   WHEN record_id IS NOT NULL AND (stored_hash = last_hash
                                                                   OR stored_key_hash = last_key_hash)
                                        THEN 'unchanged'
                                   WHEN rn = 1 AND (stored_hash = content_hash
                                                    OR stored_key_hash = key_hash) THEN 'unchanged'
                                   WHEN rn > 1 AND prev_key_hash = key_hash THEN 'unchanged'
                                   ELSE 'corrected' END AS outcome
                        FROM (SELECT line, authority_uscc, decision_key, subject_id, record_id,
                                     stored_hash, stored_key_hash, content_hash, key_hash,
                                     ROW_NUMBER() OVER (PARTITION BY authority_uscc, decision_key, subject_id
                                                        ORDER BY line) AS rn,
                                     LAG(key_hash) OVER (PARTITION BY authority_uscc, decision_key, subject_id
                                                         ORDER BY line) AS prev_key_hash,
                                     -- the same order as above, so one sort serves every window
                                     LAST_VALUE(content_hash) OVER (
                                         PARTITION BY authority_uscc, decision_key, subject_id ORDER BY line
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS last_hash,
                                     LAST_VALUE(key_hash) OVER (
                                         PARTITION BY authority_uscc, decision_key, subject_id ORDER BY line
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS last_key_hash
                              FROM stg) w) c) o
            WHERE o.line = stg.line
            """
        )
        if completion is not None and completion.fields:
            x(
                """
                INSERT INTO stg_issues (severity, line, field, code, message)
                SELECT 'warning', k.line, k.field, 'kept_from_record', k.message
                FROM stg_kept k JOIN stg ON stg.line = k.line
                WHERE stg.outcome = 'corrected' AND k.message IS NOT NULL
                """
            )
            x("DELETE FROM stg_kept")
        if class_header is not None:
            self._class_changes(class_header, end_headers)
        # say what a reader of the report could not see: a number written another way than the
        # record's (or the row's above it) is the same decision; a row that repeats the decision
        # and party of a row above it with other content replaces it
        x(
            """
            WITH w AS (
                SELECT line, decision_no, outcome, rn,
                       CASE WHEN rn = 1 THEN stored_no ELSE prev_no END AS ref,
                       rn > 1 OR first_line < line AS above  -- a row above it in the file (perhaps
                                                            -- merged in an earlier step)
                FROM (SELECT stg.line, stg.decision_no, stg.stored_no, stg.outcome, e.first_line,
                             ROW_NUMBER() OVER (PARTITION BY stg.authority_uscc, stg.decision_key,
                                                             stg.subject_id ORDER BY stg.line) AS rn,
                             LAG(stg.decision_no) OVER (PARTITION BY stg.authority_uscc, stg.decision_key,
                                                                     stg.subject_id ORDER BY stg.line) AS prev_no
                      FROM stg JOIN stg_seen e ON e.authority_uscc = stg.authority_uscc
                                              AND e.decision_key = stg.decision_key
                                              AND e.subject_id = stg.subject_id) r)
            INSERT INTO stg_issues (severity, line, field, code, message)
            SELECT 'warning', line, :number_header, 'decision_no_respelled',
                   '“' || decision_no || '”与' || CASE WHEN rn = 1 THEN '已登记的' ELSE '文件中前面一行的' END
                   || '“' || ref || '”是同一文号的不同写法（括号、全角半角、空格、大小写'
                   || '或序号前的“第”字、补位的0不同），按同一决定处理'
                   || CASE WHEN outcome = 'unchanged' THEN '：内容相同，未作改动'
                           ELSE '：本行作为该决定的更正保存' END
            FROM w WHERE ref <> decision_no
            UNION ALL
            SELECT 'warning', line, :number_header, 'corrected_in_file',
                   '文件中前面一行已有同一决定书文号、同一当事人的记录，本行内容与之不同：按更正处理，以本行为准，'
                   || '前一行的内容保留为历史版本；若是同一决定下的不同证书或事项，请在一行中报送，或使用不同的文号'
            FROM w WHERE above AND outcome = 'corrected'
            UNION ALL
            SELECT 'warning', stg.line, :number_header, 'record_revoked',
                   '该决定的记录已被撤销：本行的更正已保存为新版本，但记录仍为已撤销，不予公示；'
                   || '如撤销有误，请联系信用办处理'
            FROM stg JOIN records r ON r.id = stg.record_id
            WHERE stg.outcome = 'corrected' AND r.revoked_at IS NOT NULL
            """,
            {"number_header": number_header},
        )
        x(
            """
            INSERT INTO records (subject_id, kind, item_code, decision_no, decision_key,
                                 authority_uscc, department_id, current_version, current_hash,
                                 current_key_hash, created_at, updated_at)
            SELECT stg.subject_id, :kind, :item, stg.decision_no, stg.decision_key,
                   stg.authority_uscc, d.id, 1,
                   stg.content_hash, stg.key_hash, :now, :now
            FROM stg JOIN stg_departments d ON d.uscc = stg.source_uscc
            WHERE stg.outcome = 'new'
            """,
            {**params, "kind": kind, "item": item_code},
        )
        attach_records()
        x(
            """
            INSERT INTO record_versions (record_id, subject_id, version, content_hash, data,
                subject_name, decision_date, penalty_class, class_reason, class_rule, published,
                publication_min_end, publication_end, publication_rule, deadline,
                deadline_provisional, deadline_rule, on_time, batch_id, line, department_id,
                received_at)
            SELECT stg.record_id, stg.subject_id, stg.version, stg.content_hash, p.data,
                   stg.subject_name, stg.decision_date, stg.penalty_class, stg.class_reason,
                   stg.class_rule, stg.published, stg.pub_min_end, stg.pub_end, stg.pub_rule,
                   stg.deadline, stg.deadline_provisional, stg.deadline_rule, stg.on_time, :batch,
                   stg.line, d.id, :now
            FROM stg JOIN stg_payload p ON p.line = stg.line
            JOIN stg_departments d ON d.uscc = stg.source_uscc
            WHERE stg.outcome IN ('new', 'corrected')
            """,
            params,
        )
        x(
            """
            UPDATE records SET current_version = x.version, current_hash = x.content_hash,
                               current_key_hash = x.key_hash,
                               subject_id = x.subject_id, department_id = x.department_id,
                               decision_no = x.decision_no, updated_at = :now
            FROM (SELECT stg.record_id, stg.version, stg.content_hash, stg.key_hash, stg.subject_id,
                         stg.decision_no, d.id AS department_id,
                         ROW_NUMBER() OVER (PARTITION BY stg.record_id ORDER BY stg.line DESC) AS rn
                  FROM stg JOIN stg_departments d ON d.uscc = stg.source_uscc
                  WHERE stg.outcome = 'corrected') x
            WHERE x.rn = 1 AND records.id = x.record_id
            """,
            params,
        )
        counts = {"new": 0, "corrected": 0, "unchanged": 0}
        for outcome, count in x("SELECT outcome, COUNT(*) FROM stg GROUP BY outcome"):
            counts[outcome] = count
        return counts

    def _complete_from_records(self, completion: Completion) -> None:
        """Rows that correct a stored record take, for every field their file has no column for,
        the value of the version they correct (a column absent says nothing; an empty cell clears
        a value). Their data, and the content hashes the outcome is decided by, are those of the
        row so completed: a row that is then the record as it is is ``unchanged``, and a completed
        version has the hash a full row with its values has, so that the decision sent later in a
        file with every column and the same values is ``unchanged`` too. Where a value a penalty's
        class is decided from is kept, the class and publication are decided again from the
        completed data, and the row, if it is a correction, is warned (``kept_from_record``).

        Done before the outcome is decided, for the rows of stored records that differ from them
        as sent and whose version holds a value of such a field (a file sent again as it was, or
        sent in the layout its records came in, reads nothing): one statement reads them, a page
        at a time (memory stays flat however many rows a merge holds), Python completes each page
        and inserts it; three statements then write the completed rows back."""
        keys = [key for key, _label in completion.fields]
        holds = " OR ".join(f"v.data LIKE :key{i}" for i in range(len(keys)))
        if self.dialect == "postgresql":
            # read through a server-side cursor, which PostgreSQL plans for its first tenth of rows
            # (nested loops over the staging table, which has no index: minutes, not a second)
            self._exec("SET LOCAL cursor_tuple_fraction = 1.0")
        found = self.session.execute(
            text(f"""
            SELECT stg.line, stg.decision_date, stg.authority_uscc, stg.category, stg.decision_key,
                   stg.lr_index, v.subject_id, stg.moved_from, p.data, v.data
            FROM stg JOIN stg_payload p ON p.line = stg.line
            JOIN record_versions v ON v.record_id = stg.record_id AND v.version = stg.base_version
            WHERE stg.content_hash <> stg.stored_hash
              AND (stg.stored_key_hash IS NULL OR stg.key_hash <> stg.stored_key_hash)
              AND ({holds})
            """).execution_options(stream_results=True),
            {f"key{i}": f'%"{key}"%' for i, key in enumerate(keys)},
        )
        completed = sum(self._complete_page(page, completion) for page in found.partitions(COMPLETION_PAGE))
        if not completed:
            return
        x = self._exec
        x("UPDATE stg SET content_hash = k.content_hash, key_hash = k.key_hash FROM stg_kept k WHERE k.line = stg.line")
        x(
            """
            UPDATE stg SET penalty_class = k.penalty_class, class_reason = k.class_reason,
                           class_rule = k.class_rule, published = k.published,
                           pub_min_end = k.pub_min_end, pub_end = k.pub_end, pub_rule = k.pub_rule
            FROM stg_kept k WHERE k.line = stg.line AND k.decided
            """
        )
        x("UPDATE stg_payload SET data = k.data FROM stg_kept k WHERE k.line = stg_payload.line")

    def _complete_page(self, page: Sequence[Any], completion: Completion) -> int:
        """Complete a page of the rows ``_complete_from_records`` reads and stage them in
        ``stg_kept``; how many were completed."""
        labels = dict(completion.fields)
        rows: list[tuple[Any, dict[str, Any], dict[str, Any]]] = []
        for row in page:
            data, before = json.loads(row[8]), json.loads(row[9])
            moved = row[7] is not None  # the record moves to this row's party: the former one's stay
            carried = {k: before[k] for k in labels
                       if before.get(k) not in (None, "") and (k not in data or k in completion.defaulted)
                       and data.get(k) != before[k] and not (moved and k in completion.party_fields)}
            for type_key, number_key in completion.type_of.items():
                if type_key in carried and number_key not in carried:
                    del carried[type_key]  # the number was cleared (or is the row's own): not its type
            if carried:
                rows.append((row, data, carried))
        # a legal representative's id kept from the version counts by its blind index, found by
        # the masked form the version holds (as an online correction finds its encrypted copy)
        indexes = subjects.legal_representative_indexes(
            self.session, {(row[6], carried["legal_rep_id_number"])
                           for row, _data, carried in rows if "legal_rep_id_number" in carried})
        completed: list[dict[str, Any]] = []
        for row, data, carried in rows:
            line, decision_date, authority, category, decision_key, lr_index, subject_id = row[:7]
            data.update(carried)
            if "legal_rep_id_number" in carried:
                masked = carried["legal_rep_id_number"]
                lr_index = (indexes.get((subject_id, masked, data.get("legal_rep")))
                            or indexes.get((subject_id, masked, None)))
            content_hash, key_hash = completion.hashes(data, lr_index, decision_key)
            out = {"line": line, "data": json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                   "content_hash": content_hash, "key_hash": key_hash, "decided": False, "class": None,
                   "reason": None, "rule": None, "published": None, "min_end": None, "end": None,
                   "pub_rule": None, "field": None, "message": None}
            deciding = [k for k in carried if k in completion.class_fields]
            if deciding and completion.decide_again is not None:
                day = decision_date if isinstance(decision_date, dt.date) else dt.date.fromisoformat(decision_date)
                penalty_class, reason, rule, published, min_end, end, pub_rule = completion.decide_again(
                    data, day, authority, category)
                columns = "、".join(f"“{labels[k]}”" for k in deciding)
                values = "、".join(f"“{labels[k]}”{_shown(carried[k])}" for k in deciding)
                shown = f"公示至 {end:%Y/%m/%d}" if published else "不予公示"
                these = "该" if len(deciding) == 1 else "这些"
                out.update({
                    "decided": True, "class": penalty_class, "reason": reason, "rule": rule,
                    "published": published, "min_end": min_end.isoformat(), "end": end.isoformat(),
                    "pub_rule": pub_rule, "field": labels[deciding[0]],
                    "message": f"文件没有{columns}列：本行更正已登记的记录，沿用该记录已登记的{values}，"
                               f"失信严重程度据此认定为“{penalty_class}”（{shown}）；"
                               f"如{these}值确有变化，请用含{these}列的文件重新报送"})
            completed.append(out)
        if completed:
            self.session.execute(
                text("INSERT INTO stg_kept (line, data, content_hash, key_hash, decided, penalty_class, class_reason, "
                     "class_rule, published, pub_min_end, pub_end, pub_rule, field, message) VALUES (:line, :data, "
                     ":content_hash, :key_hash, :decided, :class, :reason, :rule, :published, :min_end, :end, "
                     ":pub_rule, :field, :message)"),
                completed,
            )
        return len(completed)

    def _class_changes(self, class_header: str, end_headers: tuple[str, str] | None) -> None:
        """Warn every correction of a penalty whose class or publication changes (``class_changed``),
        naming the class before and after, and the publication's end when it moves too: a
        department that corrects an amount, a kind or a date sees what the public will see of it.
        A correction that keeps the class and publication but moves the end of the publication (a
        corrected 公示截止期, or a decision date for which another rule's period applies) is
        warned too (``publication_end_changed``), on the column that moved it where that is one
        of them. Compared with the version corrected, or with the file's correction before it; a
        record the credit office revoked says so otherwise (``record_revoked``)."""
        date_header, end_header = end_headers or (None, None)
        declared = self._json_text("{}.data", "publication_end_declared")  # of the table named

        def shown(date: str) -> str:
            return f"REPLACE(CAST({date} AS TEXT), '-', '/')"

        self._exec(
            f"""
            INSERT INTO stg_issues (severity, line, field, code, message)
            SELECT 'warning', line,
                   CASE WHEN moved_class THEN :class_header
                        WHEN before_date <> decision_date THEN :date_header
                        WHEN COALESCE(before_declared, '') <> COALESCE(declared, '') THEN :end_header END,
                   CASE WHEN moved_class THEN 'class_changed' ELSE 'publication_end_changed' END,
                   '本行更正了已登记的处罚：'
                   || CASE WHEN before_class <> penalty_class
                           THEN '失信严重程度由“' || before_class || '”改为“' || penalty_class || '”（'
                                || class_reason || '）'
                           ELSE '失信严重程度仍为“' || penalty_class || '”' END
                   || CASE WHEN before_published <> published AND published
                           THEN '，由不予公示改为公示（公示至 ' || {shown("pub_end")} || '）'
                           WHEN before_published <> published THEN '，由公示改为不予公示'
                           WHEN published AND before_end <> pub_end
                           THEN '，公示截止日期由 ' || {shown("before_end")} || ' 改为 ' || {shown("pub_end")}
                                || CASE WHEN moved_class THEN ''
                                        WHEN before_date <> decision_date
                                        THEN '（“' || :date_header || '”由 ' || {shown("before_date")}
                                             || ' 改为 ' || {shown("decision_date")} || '）'
                                        WHEN COALESCE(before_declared, '') <> COALESCE(declared, '')
                                        THEN '（“' || :end_header || '”由'
                                             || COALESCE(' ' || {shown("before_declared")}, '空') || ' 改为'
                                             || COALESCE(' ' || {shown("declared")}, '空') || '）'
                                        ELSE '' END
                           ELSE '' END
                   || CASE WHEN moved_class THEN '。请核对处罚类别、罚款金额等栏目是否正确'
                           ELSE '，公众可查询到该处罚的期限随之改变。请核对处罚决定日期、公示截止期是否正确' END
            FROM (SELECT d.*,  -- 公示截止期 before and after, read only for the rows warned
                         COALESCE((SELECT {declared.format("b")} FROM record_versions b WHERE b.id = d.before_version),
                                  (SELECT {declared.format("b")} FROM stg_payload b WHERE b.line = d.before_line))
                             AS before_declared,
                         (SELECT {declared.format("b")} FROM stg_payload b WHERE b.line = d.line) AS declared
                  FROM (SELECT c.*, (before_class <> penalty_class OR before_published <> published) AS moved_class
                        FROM (SELECT stg.line, stg.penalty_class, stg.class_reason, stg.published, stg.pub_end,
                                     stg.decision_date,
                                     CASE WHEN ROW_NUMBER() OVER w = 1 THEN v.id END AS before_version,
                                     CASE WHEN ROW_NUMBER() OVER w > 1 THEN LAG(stg.line) OVER w END AS before_line,
                                     CASE WHEN ROW_NUMBER() OVER w = 1 THEN v.penalty_class
                                          ELSE LAG(stg.penalty_class) OVER w END AS before_class,
                                     CASE WHEN ROW_NUMBER() OVER w = 1 THEN v.published
                                          ELSE LAG(stg.published) OVER w END AS before_published,
                                     CASE WHEN ROW_NUMBER() OVER w = 1 THEN v.publication_end
                                          ELSE LAG(stg.pub_end) OVER w END AS before_end,
                                     CASE WHEN ROW_NUMBER() OVER w = 1 THEN v.decision_date
                                          ELSE LAG(stg.decision_date) OVER w END AS before_date
                              FROM stg JOIN record_versions v ON v.record_id = stg.record_id
                                                             AND v.version = stg.base_version
                              JOIN records r ON r.id = stg.record_id
                              WHERE stg.outcome = 'corrected' AND r.revoked_at IS NULL
                              WINDOW w AS (PARTITION BY stg.record_id ORDER BY stg.line)) c) d
                  WHERE moved_class OR (published AND before_published AND before_end <> pub_end)) e
            """,
            {"class_header": class_header, "date_header": date_header, "end_header": end_header},
        )

    def _json_text(self, column: str, key: str) -> str:
        """SQL for the text of ``key`` in the JSON object ``column`` holds (a version's data)."""
        if self.dialect == "postgresql":
            return f"(CAST({column} AS json) ->> '{key}')"
        return f"json_extract({column}, '$.{key}')"

    def _learn_uscc(self, uscc_header: str) -> bool:
        """Give a USCC to the subjects that rows carrying it found by an organisation code or a
        registration number, with what the USCC holds: its organisation code (characters 9–17)
        and area code (3–8), where the subject has none — a subject that arrived with its USCC has
        both, and a later row with only that organisation code must find it. A stored organisation
        code that differs from the USCC's is kept (other departments' records may carry it) and
        the row says so (warning ``org_code_conflict``). Whether anything was learnt."""
        x = self._exec
        learnt = x(
            """
            INSERT INTO stg_learnt (subject_id, uscc)
            SELECT stg.subject_id, MIN(stg.uscc)
            FROM stg JOIN subjects s ON s.id = stg.subject_id
            WHERE stg.uscc IS NOT NULL AND s.uscc IS NULL
            GROUP BY stg.subject_id
            """
        ).rowcount
        if not learnt:
            return False
        # a USCC another subject holds stays with it; a USCC two subjects found by the same
        # weaker code (one business split before) goes to the first of them only
        x(
            """
            DELETE FROM stg_learnt
            WHERE EXISTS (SELECT 1 FROM subjects o WHERE o.uscc = stg_learnt.uscc)
               OR EXISTS (SELECT 1 FROM stg_learnt f
                          WHERE f.uscc = stg_learnt.uscc AND f.subject_id < stg_learnt.subject_id)
            """
        )
        x(
            f"""
            INSERT INTO stg_issues (severity, line, field, code, message)
            SELECT 'warning', MIN(stg.line), :uscc_header, 'org_code_conflict',
                   '统一社会信用代码 ' || n.uscc || ' 中的组织机构代码为 ' || {_USCC_ORG_CODE}
                   || '，但该主体已登记的组织机构代码为 ' || s.org_code
                   || '：已将统一社会信用代码记入该主体，组织机构代码仍为 ' || s.org_code
                   || '，只报送组织机构代码 ' || {_USCC_ORG_CODE}
                   || ' 的记录不会归入该主体；请核实哪个代码正确，并告知信用信息管理部门'
            FROM stg_learnt n JOIN subjects s ON s.id = n.subject_id
            JOIN stg ON stg.subject_id = n.subject_id AND stg.uscc = n.uscc
            WHERE s.org_code <> {_USCC_ORG_CODE}
            GROUP BY n.uscc, s.org_code
            """,
            {"uscc_header": uscc_header},
        )
        x(
            f"""
            UPDATE subjects SET uscc = n.uscc,
                                org_code = COALESCE(subjects.org_code, {_USCC_ORG_CODE}),
                                area_code = COALESCE(subjects.area_code, SUBSTR(n.uscc, 3, 6))
            FROM stg_learnt n WHERE subjects.id = n.subject_id
            """
        )
        x("DELETE FROM stg_learnt")
        return True

    def _other_parties(self, kind: str, name_header: str, number_header: str) -> None:
        """Rows whose number is stored for other parties only (``stg_others``): the number's only
        record in force, when this file does not list its party, is corrected by the file's first
        party under the number (warning ``party_changed``); otherwise the row is one more party of
        the decision (warning ``another_party`` when none of the stored parties is listed)."""
        x = self._exec
        x(
            """
            UPDATE stg SET record_id = m.record_id, base_version = m.current_version,
                           stored_hash = m.current_hash, stored_key_hash = m.current_key_hash,
                           stored_no = m.decision_no,
                           moved_from = m.subject_id
            FROM stg_others m
            WHERE m.parties = 1 AND NOT m.listed
              AND stg.record_id IS NULL AND stg.authority_uscc = m.authority_uscc
              AND stg.decision_key = m.decision_key
              AND stg.subject_id = (SELECT f.subject_id FROM stg f
                                    WHERE f.authority_uscc = m.authority_uscc
                                      AND f.decision_key = m.decision_key
                                    ORDER BY f.line LIMIT 1)
            """
        )
        x(
            """
            INSERT INTO stg_issues (severity, line, field, code, message)
            SELECT 'warning', stg.line, :name_header, 'party_changed',
                   '本行与已登记的同一决定（文号“' || stg.stored_no || '”）当事人不同：原为“' || s.name
                   || '”（' || {stored_code} || '），本行为“' || stg.subject_name || '”（'
                   || {row_code} || '）'
                   || CASE WHEN s.name = stg.subject_name AND {stored_code} = {row_code}
                           THEN '（名称和遮盖后的号码相同，但证件号码不同）' ELSE '' END
                   || '，按更正处理，该记录改记在本行当事人名下。'
                   || '若两者是同一决定的共同当事人，请在同一文件中分别报送每个当事人的记录'
            FROM stg JOIN subjects s ON s.id = stg.moved_from
            JOIN (SELECT MIN(line) AS line FROM stg WHERE moved_from IS NOT NULL
                  GROUP BY record_id) f ON f.line = stg.line
            """.format(stored_code=_party_code("s"), row_code=_party_code("stg")),
            {"name_header": name_header},
        )
        x(
            """
            INSERT INTO stg_issues (severity, line, field, code, message)
            SELECT 'warning', stg.line, :number_header, 'another_party',
                   '文号“' || stg.decision_no || '”已登记的当事人“'
                   || MIN(s.name || '”（' || {stored_code} || '）')
                   || CASE WHEN COUNT(*) > 1 THEN '等 ' || COUNT(*) || ' 个' ELSE '' END
                   || '不在本文件中：本行当事人“' || stg.subject_name || '”（' || MIN({row_code})
                   || '）已作为同一决定的又一当事人保存；若是更正当事人，请撤销原记录'
            FROM stg
            JOIN stg_others r ON r.authority_uscc = stg.authority_uscc
                             AND r.decision_key = stg.decision_key AND NOT r.listed
            JOIN subjects s ON s.id = r.subject_id
            JOIN (SELECT MIN(line) AS line FROM stg WHERE record_id IS NULL
                  GROUP BY authority_uscc, decision_key, subject_id) f ON f.line = stg.line
            GROUP BY stg.line, stg.decision_no, stg.subject_name
            """.format(stored_code=_party_code("s"), row_code=_party_code("stg")),
            {"number_header": number_header},
        )

    def clear(self) -> None:
        """Empty the staged rows after a merge (the issues stay until ``finish``)."""
        if self.dialect == "postgresql":
            self._exec("TRUNCATE stg, stg_payload")
        else:
            self._exec("DELETE FROM stg")
            self._exec("DELETE FROM stg_payload")

    def rename_fields(self, first: int, last: int | None, renamed: dict[str, str]) -> None:
        """Name the columns of the issues on lines ``first``…``last`` (None: to the end) as
        ``renamed`` maps them: a later worksheet that heads a column otherwise."""
        for old, new in renamed.items():
            self._exec(
                "UPDATE stg_issues SET field = :new WHERE field = :old AND line >= :first"
                + ("" if last is None else " AND line <= :last"),
                {"new": new, "old": old, "first": first, "last": last},
            )

    def finish(self, *, batch_id: int) -> None:
        """Store the batch's issues, errors first, each kind in file order (file-wide ones first);
        their ids keep that order."""
        self._exec(
            """
            INSERT INTO batch_issues (batch_id, severity, line, field, code, message)
            SELECT :batch, severity, line, field, code, message FROM stg_issues
            ORDER BY CASE severity WHEN 'error' THEN 0 ELSE 1 END, COALESCE(line, 0),
                     seq IS NULL, seq
            """,
            {"batch": batch_id},
        )


def _shown(value: str) -> str:
    """A stored value as a message shows it: a date as YYYY/MM/DD."""
    return value.replace("-", "/") if len(value) == 10 and value[4] == "-" and value[7] == "-" else value


# the organisation code inside a learnt USCC (characters 9–17, GB 32100)
_USCC_ORG_CODE = "SUBSTR(n.uscc, 9, 9)"


def _party_code(table: str) -> str:
    """SQL for the code a party is told by in a message: its USCC, masked id, registration
    number or organisation code (same-named persons differ only there)."""
    return (f"COALESCE(NULLIF({table}.uscc, '{ids.PLACEHOLDER_USCC}'), {table}.person_masked, "
            f"{table}.reg_no, {table}.org_code, '')")


class _CopyText:
    """Rows as PostgreSQL COPY text, formatted by the driver's own row formatter."""

    def __init__(self) -> None:
        self._transformer = Transformer()

    def encode(self, rows: Sequence[tuple[Any, ...]]) -> bytes:
        out = bytearray()
        for row in rows:
            format_row_text(row, self._transformer, out)
        return bytes(out)


def _db_time(value: dt.datetime, dialect: str) -> dt.datetime:
    utc = value.astimezone(dt.UTC)
    return utc.replace(tzinfo=None) if dialect == "sqlite" else utc
