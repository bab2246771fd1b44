"""The migrations create exactly the tables the models describe, on both backends."""

from __future__ import annotations

import json
import logging
import re

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from audithelpers import chain_without_the_key, write_entries
from filehelpers import FIXTURES, ingest, sample_rows, write_rows
from xinyong.core import db
from xinyong.core.registry import metadata


def _relevant(diff: object) -> bool:
    # Index and constraint naming differences SQLite reflects loosely are not schema drift.
    kind = diff[0] if isinstance(diff, tuple) else diff[0][0]  # type: ignore[index]
    return kind in {"add_table", "remove_table", "add_column", "remove_column"}


def test_models_and_migrations_agree(database):
    with database.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    tables_and_columns = [d for d in diffs if _relevant(d)]
    # the name-search structures (FTS tables on SQLite) live only in migrations
    tables_and_columns = [d for d in tables_and_columns
                          if not (d[0] == "remove_table" and str(d[1].name).startswith("subject_name_fts"))]
    assert tables_and_columns == []


def _samples_of_one_authority(url: str) -> tuple[list[str], tuple[dict[str, str], ...]]:
    """The sample file stored in a new database at ``url``; its header and three rows (three
    parties) of one deciding authority."""
    db.upgrade(url)
    assert ingest(FIXTURES / "penalties.csv").accepted == 47
    headers, rows = sample_rows()
    by_authority: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_authority.setdefault(row["处罚机关统一社会信用代码"], []).append(row)
    return headers, tuple(next(group for group in by_authority.values() if len(group) >= 3)[:3])


def test_records_whose_numbers_differ_only_in_spelling_are_merged_when_the_key_arrives(
        empty_database_url, tmp_path, caplog):
    """Before migration 0008 〔2024〕 and [2024] made two records of one decision; the upgrade
    merges one party's records into the first, keeps every version in the order received, and
    touches nothing else: another party's record of the number stays (on SQLite the table is
    rebuilt: no version may be lost to ON DELETE CASCADE)."""
    url = empty_database_url
    headers, (a, b, c) = _samples_of_one_authority(url)
    corrected = ingest(write_rows(tmp_path / "fix.csv", headers, [dict(a, 处罚内容="责令改正（更正）")]))
    assert corrected.corrected == 1
    command.downgrade(db.alembic_config(url), "0007")
    respelled = a["行政处罚决定书文号"].replace("〔", "[").replace("〕", "]")
    assert respelled != a["行政处罚决定书文号"]
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        # what an older platform stored for b, had it been sent under a's number spelled another way
        b_id = conn.execute(sa.text("SELECT id FROM records WHERE decision_no = :n"),
                            {"n": b["行政处罚决定书文号"]}).scalar_one()
        a_id, a_subject = conn.execute(sa.text("SELECT id, subject_id FROM records WHERE decision_no = :n"),
                                       {"n": a["行政处罚决定书文号"]}).one()
        conn.execute(sa.text("UPDATE records SET decision_no = :n, subject_id = :s WHERE id = :id"),
                     {"n": respelled, "s": a_subject, "id": b_id})
        # c: the same number for another party of the decision, which stays a record of its own
        c_id, c_subject = conn.execute(sa.text("SELECT id, subject_id FROM records WHERE decision_no = :n"),
                                       {"n": c["行政处罚决定书文号"]}).one()
        assert c_subject != a_subject
        conn.execute(sa.text("UPDATE records SET decision_no = :n WHERE id = :id"),
                     {"n": a["行政处罚决定书文号"].replace("〔", "【").replace("〕", "】"), "id": c_id})
    engine.dispose()
    db.reset_engine()

    with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
        db.upgrade(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM records")).scalar_one() == 46
        assert conn.execute(sa.text("SELECT COUNT(*) FROM record_versions")).scalar_one() == 48
        keeper = min(a_id, b_id)  # the first received (ids need not follow the file's order)
        merged = conn.execute(sa.text("SELECT * FROM records WHERE id = :id"), {"id": keeper}).one()
        versions = conn.execute(sa.text(
            "SELECT version, data, batch_id FROM record_versions WHERE record_id = :id ORDER BY version"),
            {"id": keeper}).all()
        assert conn.execute(sa.text("SELECT COUNT(*) FROM records WHERE decision_key IS NULL")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT decision_key FROM records WHERE id = :id"),
                            {"id": c_id}).scalar_one() == merged.decision_key
    engine.dispose()
    # a's first version, b's (same batch, later line), then a's correction: the last received is current
    assert [json.loads(v.data)["subject_name"] for v in versions] == [
        a["行政相对人名称"], b["行政相对人名称"], a["行政相对人名称"]]
    assert [v.version for v in versions] == [1, 2, 3]
    assert (merged.current_version, merged.decision_no) == (3, a["行政处罚决定书文号"])
    assert merged.decision_key == a["行政处罚决定书文号"].replace("〔", "(").replace("〕", ")").lower()
    assert f"records {keeper}, {max(a_id, b_id)}" in caplog.text and f"merged into record {keeper}" in caplog.text

    # the platform now treats the spellings as one decision: the current version's content under
    # the other spelling is no change (0015 gave the merged record the hash with the number's key)
    again = ingest(write_rows(tmp_path / "again.csv", headers,
                              [dict(a, 处罚内容="责令改正（更正）", 行政处罚决定书文号=respelled)]))
    assert (again.accepted, again.corrected, again.unchanged) == (0, 0, 1)
    assert [w.code for w in again.warnings] == ["decision_no_respelled"]


def test_records_whose_serial_numbers_differ_only_in_padding_are_merged_by_the_upgrade(
        empty_database_url, tmp_path, caplog):
    """Before migration 0012 第01号 and 1号 made two records of one decision; the upgrade keys the
    stored numbers again, merges one party's records into the first (versions kept in the order
    received) and only re-keys another party's record of the decision."""
    url = empty_database_url
    headers, (a, b, c) = _samples_of_one_authority(url)
    number = a["行政处罚决定书文号"]
    padded = number.replace("〕", "〕第00")
    assert padded != number and number.endswith("号")
    command.downgrade(db.alembic_config(url), "0011")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        old_key = conn.execute(sa.text("SELECT decision_key FROM records WHERE decision_no = :n"),
                               {"n": number}).scalar_one()
        padded_key = old_key.replace(")", ")第00")
        a_id, a_subject = conn.execute(sa.text("SELECT id, subject_id FROM records WHERE decision_no = :n"),
                                       {"n": number}).one()
        # what the older platform stored for b, had it been sent under a's number padded
        b_id = conn.execute(sa.text("SELECT id FROM records WHERE decision_no = :n"),
                            {"n": b["行政处罚决定书文号"]}).scalar_one()
        conn.execute(sa.text("UPDATE records SET decision_no = :n, decision_key = :k, subject_id = :s "
                             "WHERE id = :id"), {"n": padded, "k": padded_key, "s": a_subject, "id": b_id})
        conn.execute(sa.text("UPDATE record_versions SET subject_id = :s WHERE record_id = :id"),
                     {"s": a_subject, "id": b_id})
        # c: the padded number for another party of the decision: a record of its own, re-keyed
        c_id = conn.execute(sa.text("SELECT id FROM records WHERE decision_no = :n"),
                            {"n": c["行政处罚决定书文号"]}).scalar_one()
        conn.execute(sa.text("UPDATE records SET decision_no = :n, decision_key = :k WHERE id = :id"),
                     {"n": padded, "k": padded_key, "id": c_id})
    engine.dispose()
    db.reset_engine()

    with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
        db.upgrade(url)
    keeper = min(a_id, b_id)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM records")).scalar_one() == 46
        assert conn.execute(sa.text("SELECT COUNT(*) FROM record_versions")).scalar_one() == 47
        keys = dict(conn.execute(sa.text("SELECT id, decision_key FROM records WHERE id IN (:a, :c)"),
                                 {"a": keeper, "c": c_id}).all())
        key_hashes = conn.execute(sa.text("SELECT current_key_hash FROM records WHERE id IN (:a, :c)"),
                                  {"a": keeper, "c": c_id}).scalars().all()
        versions = conn.execute(sa.text("SELECT data FROM record_versions WHERE record_id = :id ORDER BY version"),
                                {"id": keeper}).scalars().all()
    engine.dispose()
    assert keys == {keeper: old_key, c_id: old_key}
    # 0012 dropped them (made with the old key); 0015 computes them again with the new one
    assert all(key_hashes) and len(key_hashes) == 2
    assert [json.loads(v)["subject_name"] for v in versions] == [a["行政相对人名称"], b["行政相对人名称"]]
    assert f"records {keeper}, {max(a_id, b_id)}" in caplog.text

    # the platform now treats the spellings as one decision
    again = ingest(write_rows(tmp_path / "again.csv", headers,
                              [dict(a, 处罚内容="责令改正（更正）", 行政处罚决定书文号=padded)]))
    assert (again.accepted, again.corrected) == (0, 1)
    command.downgrade(db.alembic_config(url), "0011")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT decision_key FROM records WHERE id = :c"),
                            {"c": c_id}).scalar_one() == padded_key
    engine.dispose()


def test_rejected_rows_stored_in_clear_are_sealed_by_the_upgrade(empty_database_url):
    """Rows rejected before migration 0009 kept resident ids in clear; the upgrade seals them,
    the downgrade opens them again, and the department's download reads the same throughout."""
    import re

    from xinyong.ingest import service

    url = empty_database_url
    db.upgrade(url)
    report = ingest(FIXTURES / "penalties_with_errors.csv")
    assert report.rejected == 5
    ids = set(re.findall(r"\b\d{17}[\dXx]\b", (FIXTURES / "penalties_with_errors.csv").read_text(encoding="utf-8")))
    with db.transaction() as session:
        before = service.rejected_rows(session, report.batch_id)

    def stored() -> list[str]:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            cells = list(conn.execute(sa.text("SELECT cells FROM batch_rejected_rows")).scalars())
        engine.dispose()
        return cells

    command.downgrade(db.alembic_config(url), "0008")
    opened = stored()
    assert all(c.startswith("{") for c in opened) and any(n in c for n in ids for c in opened)
    db.reset_engine()
    db.upgrade(url)
    sealed = stored()
    assert len(sealed) == 5 and not any(n in c for n in ids for c in sealed)
    with db.transaction() as session:
        assert service.rejected_rows(session, report.batch_id) == before


def test_subjects_that_learnt_their_uscc_get_the_codes_inside_it(empty_database_url, tmp_path, caplog):
    """Before migration 0010 a USCC that arrived after the registration number or the organisation
    code brought neither the organisation code nor the area code inside it, and a record with only
    that organisation code then made a second subject. The upgrade fills the codes, and names each
    business split in two, leaving its organisation code to the subject that holds it."""
    from xinyong.core import ids

    uscc, reg_no, org_code, number = ("行政相对人代码_1(统一社会信用代码)", "行政相对人代码_2(工商注册号)",
                                      "行政相对人代码_3(组织机构代码)", "行政处罚决定书文号")
    url = empty_database_url
    db.upgrade(url)
    headers, rows = sample_rows()
    company, other = rows[0], rows[1]
    shop = next(r for r in rows if r[uscc] == ids.PLACEHOLDER_USCC)
    shop_uscc = ids.make_uscc("92440402" + ids.make_org_code("MA000001"))
    ingest(write_rows(tmp_path / "a.csv", headers, [
        dict(company, **{uscc: "", org_code: company[uscc][8:17], number: "石家监督罚〔2019〕7号"}), shop, other]))
    ingest(write_rows(tmp_path / "b.csv", headers, [
        company, dict(shop, **{uscc: shop_uscc, number: "珠海生态罚〔2025〕3号"})]))
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        # what an older platform stored: the USCCs learnt without the codes inside them (and one
        # subject that came with its USCC, stripped of them, to be filled alike)
        conn.execute(sa.text("UPDATE subjects SET area_code = NULL WHERE uscc IN (:a, :b, :c)"),
                     {"a": company[uscc], "b": shop_uscc, "c": other[uscc]})
        conn.execute(sa.text("UPDATE subjects SET org_code = NULL WHERE uscc IN (:b, :c)"),
                     {"b": shop_uscc, "c": other[uscc]})
    db.reset_engine()
    # … so that a record with only the shop's organisation code made a second subject
    ingest(write_rows(tmp_path / "c.csv", headers, [
        dict(shop, **{uscc: "", reg_no: "", org_code: shop_uscc[8:17], number: "珠海生态罚〔2025〕9号"})]))

    def subjects() -> dict[str | None, sa.Row]:
        with engine.connect() as conn:
            found = conn.execute(sa.text("SELECT id, uscc, org_code, area_code FROM subjects")).all()
        return {s.uscc: s for s in found}

    before = subjects()
    assert len(before) == 4 and before[None].org_code == shop_uscc[8:17]
    command.downgrade(db.alembic_config(url), "0009")
    db.reset_engine()
    with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
        db.upgrade(url)
    after = subjects()
    engine.dispose()
    assert len(after) == 4
    for code in (company[uscc], other[uscc]):
        assert (after[code].org_code, after[code].area_code) == (code[8:17], code[2:8])
    # the split business: the area is filled, the organisation code stays with the subject holding it
    shop_subject, split = after[shop_uscc], after[None]
    assert (shop_subject.org_code, shop_subject.area_code) == (None, shop_uscc[2:8])
    assert (split.org_code, split.area_code) == (shop_uscc[8:17], None)
    warned = [r.getMessage() for r in caplog.records if "one business" in r.getMessage()]
    assert len(warned) == 1
    assert all(str(part) in warned[0] for part in (shop_subject.id, split.id, shop_uscc, shop_uscc[8:17]))

    # the warning gives the command that merges the pair; run as it says, it does
    from typer.testing import CliRunner

    from xinyong.cli import app

    (merge,) = re.findall(r"`xinyong (subject merge [^`]+)`", warned[0])
    assert merge == f"subject merge {shop_uscc} id:{split.id}"
    done = CliRunner().invoke(app, [*merge.split(), "--apply", "--reason", "迁移 0010 提示的同一个体工商户"],
                              env={"COLUMNS": "250"})
    assert done.exit_code == 0, done.output
    left = subjects()
    assert len(left) == 3 and None not in left
    merged = left[shop_uscc]
    assert (merged.id, merged.uscc, merged.org_code, merged.area_code) == (
        shop_subject.id, shop_uscc, shop_uscc[8:17], shop_uscc[2:8])
    with sa.create_engine(url).connect() as conn:
        numbers = conn.scalars(sa.text("SELECT decision_no FROM records WHERE subject_id = :s"),
                               {"s": merged.id}).all()
    assert {"珠海生态罚〔2025〕3号", "珠海生态罚〔2025〕9号", shop[number]} <= set(numbers)


def test_batches_sent_without_a_sender_get_the_department_of_their_records(empty_database_url, tmp_path):
    """Command-line batches stored before intake gave them the department their rows come from
    were counted for no department on the quality pages; the upgrade gives them that department
    when all their records come from one, and leaves a batch of several departments without."""
    url = empty_database_url
    db.upgrade(url)
    headers, rows = sample_rows()
    sjz = [r for r in rows if r["数据来源单位"] == rows[0]["数据来源单位"]]
    assert len(sjz) > 1
    one = ingest(write_rows(tmp_path / "one.csv", headers, sjz))
    several = ingest(write_rows(tmp_path / "several.csv", headers, [rows[1], rows[2]]))
    assert rows[1]["数据来源单位"] != rows[2]["数据来源单位"]
    engine = sa.create_engine(url)

    def departments() -> dict[int, int | None]:
        with engine.connect() as conn:
            return dict(conn.execute(sa.text("SELECT id, department_id FROM batches")).all())

    given = departments()[one.batch_id]
    assert given is not None and departments()[several.batch_id] is None
    with engine.begin() as conn:  # as an older platform stored it
        conn.execute(sa.text("UPDATE batches SET department_id = NULL"))
    command.downgrade(db.alembic_config(url), "0010")
    db.reset_engine()
    db.upgrade(url)
    after = departments()
    engine.dispose()
    assert after == {one.batch_id: given, several.batch_id: None}


def test_content_hashes_are_computed_again_from_the_stored_data(empty_database_url, tmp_path):
    """Before migration 0015 a version's content hash was computed over the row as sent, personal
    ids in clear; the upgrade computes every version's and record's hash from the data stored, as
    intake now does (a legal representative's id by its blind index): a file sent again after
    it changes nothing."""
    url = empty_database_url
    db.upgrade(url)
    headers, rows = sample_rows()
    assert ingest(FIXTURES / "penalties.csv").accepted == 47
    fixed = dict(rows[0], 处罚内容="责令改正（更正）")
    assert ingest(write_rows(tmp_path / "fix.csv", headers, [fixed])).corrected == 1
    engine = sa.create_engine(url)

    def hashes() -> tuple[set[tuple[int, str]], set[tuple[int, str, str]]]:
        with engine.connect() as conn:
            return (set(conn.execute(sa.text("SELECT id, content_hash FROM record_versions")).all()),
                    set(conn.execute(sa.text("SELECT id, current_hash, current_key_hash FROM records")).all()))

    by_intake = hashes()
    command.downgrade(db.alembic_config(url), "0014")
    with engine.begin() as conn:  # other hashes, as an older platform computed them
        conn.execute(sa.text("UPDATE record_versions SET content_hash = 'of the row as sent'"))
        conn.execute(sa.text("UPDATE records SET current_hash = 'of the row as sent', current_key_hash = NULL"))
    db.reset_engine()
    db.upgrade(url)
    assert hashes() == by_intake
    engine.dispose()
    assert any(r["法定代表人证件号码"] for r in rows)
    assert ingest(write_rows(tmp_path / "fix.csv", headers, [fixed])).unchanged == 1
    again = ingest(FIXTURES / "penalties.csv")  # every record as it is, but the one corrected
    assert (again.accepted, again.corrected, again.unchanged) == (0, 1, 46)


def _audit_chain(url: str) -> tuple[list[tuple[int, str, str]], tuple[int, str] | None]:
    """The stored chain: each entry's (seq, prev_hash, hash), and the head's (seq, hash)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        entries = [tuple(r) for r in conn.execute(sa.text("SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq"))]
        head = conn.execute(sa.text("SELECT seq, hash FROM audit_head")).first()
    engine.dispose()
    return entries, tuple(head) if head else None


def _unkeyed_audit_chain(url: str, entries: int) -> dict[int, str]:
    """A database at migration 0012 whose audit log holds ``entries`` entries chained as the
    platform chained them then (plain SHA-256); their hashes by sequence number."""
    db.upgrade(url, "0012")
    write_entries(entries)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        hashes = chain_without_the_key(conn)
    engine.dispose()
    db.reset_engine()
    return hashes


def _audit_verify() -> tuple[int, str]:
    from typer.testing import CliRunner

    from xinyong.cli import app

    result = CliRunner().invoke(app, ["audit", "verify"])
    return result.exit_code, result.output


def test_an_unkeyed_audit_chain_is_keyed_by_the_upgrade_and_unkeyed_by_the_downgrade(empty_database_url):
    """Before migration 0013 the chain was plain SHA-256, which anyone who can write the database can
    recompute; the upgrade chains the stored entries again with the platform's key, the downgrade
    gives them their unkeyed hashes back."""
    url = empty_database_url
    unkeyed = _unkeyed_audit_chain(url, 5)
    db.upgrade(url)
    code, output = _audit_verify()
    assert code == 0 and "共 5 条" in output, output
    entries, head = _audit_chain(url)
    keyed = {seq: digest for seq, _, digest in entries}
    assert not set(keyed.values()) & set(unkeyed.values())
    assert head == (5, keyed[5]) and f"5:{keyed[5]}" in output

    command.downgrade(db.alembic_config(url), "0012")
    entries, head = _audit_chain(url)
    assert {seq: digest for seq, _, digest in entries} == unkeyed and head == (5, unkeyed[5])
    assert [prev for _, prev, _ in entries] == ["0" * 64, *(unkeyed[seq] for seq in range(1, 5))]
    db.upgrade(url)
    assert _audit_verify()[0] == 0


def _alter_third(conn: sa.Connection) -> None:
    conn.execute(sa.text("UPDATE audit_log SET actor = 'user:someone-else' WHERE seq = 3"))


def _remove_third(conn: sa.Connection) -> None:
    conn.execute(sa.text("DELETE FROM audit_log WHERE seq = 3"))


def _remove_newest(conn: sa.Connection) -> None:
    conn.execute(sa.text("DELETE FROM audit_log WHERE seq >= 4"))


@pytest.mark.parametrize(("tamper", "reported", "logged", "keyed"), [
    (_alter_third, "第 3 条记录的内容被修改", "entry 3 does not match its hash", 2),
    (_remove_third, "第 3 条至第 3 条记录被删除", "entries 3 to 3 are missing", 2),
    (_remove_newest, "最新的第 4 条至第 5 条记录被删除", "the head (entry 5) does not match the newest entry (3)", 3),
], ids=["altered", "removed", "newest-removed"])
def test_a_broken_unkeyed_audit_chain_stays_broken_through_the_upgrade(empty_database_url, caplog, tamper,
                                                                       reported, logged, keyed):
    """A chain that was broken before migration 0013 is not made whole by being keyed: the upgrade
    keys the entries before the break, says so, and leaves the rest, so that `xinyong audit verify`
    names the entry it named before; the downgrade gives back the chain as it was."""
    url = empty_database_url
    _unkeyed_audit_chain(url, 5)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tamper(conn)
    engine.dispose()
    broken = _audit_chain(url)
    with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
        db.upgrade(url)
    code, output = _audit_verify()
    assert code == 4 and reported in output, output
    assert "XINYONG_SECRET_KEY" not in output  # the entries before the break are keyed: they verify
    assert logged in caplog.text and f"Entries 1 to {keyed} are chained with the keyed digest" in caplog.text
    command.downgrade(db.alembic_config(url), "0012")
    assert _audit_chain(url) == broken
