"""JSON documents as systems send them: an array of records, the array inside an object
({"total": 2, "rows": [...]}), or records one after another. Read a record at a time."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from tests.filehelpers import FIXTURES, count, ingest, sample_rows

from xinyong.core.errors import FileUnreadable
from xinyong.ingest import readers
from xinyong.ingest.models import Batch
from xinyong.records.models import Record, RecordVersion


def _records(rows: list[dict[str, str]]) -> list[dict[str, str | None]]:
    return [{k: (v or None) for k, v in r.items()} for r in rows]


@pytest.mark.parametrize("chunk", [1 << 20, 7], ids=["whole", "seven-characters-at-a-time"])
def test_array_of_records_gives_the_csv_outcome(database, tmp_path, monkeypatch, chunk):
    """A pretty-printed array: a bad record's error gives its number in the array (a document
    may be one line: records are numbered, not lines). Read in pieces of seven characters,
    values cut at any place (numbers too) read the same."""
    monkeypatch.setattr(readers, "JSON_CHUNK_CHARS", chunk)
    _, rows = sample_rows()
    rows[3]["处罚决定日期"] = "2027/01/01"
    text = json.dumps(_records(rows), ensure_ascii=False, indent=2)
    path = tmp_path / "records.json"
    path.write_text(text, encoding="utf-8")
    report = ingest(path)
    assert (report.format, report.accepted, report.rejected) == ("json", 46, 1), report.errors[:3]
    assert [(e.line, e.field, e.code) for e in report.errors] == [(4, "处罚决定日期", "future_date")]
    again = ingest(FIXTURES / "penalties.csv")
    assert (again.unchanged, again.accepted) == (46, 1), "every value must land as in the CSV"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("lines", [False, True], ids=["document", "json-lines"])
def test_json_written_in_utf16_is_read(database, tmp_path, encoding, lines):
    """A .NET or Windows program writes JSON in UTF-16 (Encoding.Unicode), with or without a
    BOM: it was told to save the file as "CSV", or read as a CSV without the columns. JSON is
    UTF-8, 16 or 32 (RFC 4627 §3; first bytes tell): it is read like the UTF-8 document."""
    _, rows = sample_rows()
    records = _records(rows[:5])
    if lines:
        text = "\n".join(json.dumps(r, ensure_ascii=False) for r in records)
    else:
        text = json.dumps(records, ensure_ascii=False, indent=1)
    path = tmp_path / ("records.jsonl" if lines else "records.json")
    path.write_bytes(text.encode(encoding))
    report = ingest(path)
    assert (report.encoding, report.accepted, report.rejected) == ("UTF-16", 5, 0), report.errors[:3]
    assert report.format == ("jsonl" if lines else "json")


@pytest.mark.parametrize("shape", ["rows", "data-list", "one-after-another"])
def test_records_wrapped_in_an_object_or_one_after_another(database, tmp_path, shape):
    """{"total": 47, "rows": [...]} on one line, {"code": 200, "data": {"total": 47, "list": [...]}}
    pretty-printed, and pretty-printed objects one after another: the records are read, the rest
    (a count, a status) is not a record."""
    _, rows = sample_rows()
    records = _records(rows)
    if shape == "rows":
        text = json.dumps({"total": len(records), "rows": records}, ensure_ascii=False)
    elif shape == "data-list":
        text = json.dumps({"code": 200, "msg": "成功", "tags": ["双公示"], "data": {"total": len(records),
                                                                       "list": records}},
                          ensure_ascii=False, indent=4)
    else:
        text = "\n".join(json.dumps(r, ensure_ascii=False, indent=2) for r in records)
    path = tmp_path / "export.json"
    path.write_text(text, encoding="utf-8")
    report = ingest(path)
    assert (report.rows_total, report.accepted, report.rejected) == (len(rows), len(rows), 0), report.errors[:3]
    assert ingest(FIXTURES / "penalties.csv").unchanged == len(rows)


def test_wrapped_records_sent_as_jsonl_are_read_as_json(database, tmp_path):
    """A one-line {"rows": [...]} saved as .jsonl is a JSON document, not one bad line."""
    _, rows = sample_rows()
    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps({"rows": _records(rows[:5])}, ensure_ascii=False) + "\n", encoding="utf-8")
    report = ingest(path)
    assert (report.format, report.accepted) == ("json", 5)


def test_element_that_is_not_an_object_rejects_itself_only(database, tmp_path):
    _, rows = sample_rows()
    text = json.dumps(_records(rows[:2]), ensure_ascii=False, indent=2)
    first, second = text.split("\n  },\n  {")
    text = first + "\n  },\n  42,\n  {" + second  # a stray value between the two records
    path = tmp_path / "stray.json"
    path.write_text(text, encoding="utf-8")
    report = ingest(path)
    assert (report.accepted, report.rejected) == (2, 1)
    assert [(e.line, e.code, e.message) for e in report.errors] == [
        (2, "invalid_json", "第 2 条记录不是有效的 JSON 对象（应为 {…}）")]


def test_broken_json_document_is_unreadable_saying_where_and_nothing_is_stored(database, tmp_path, monkeypatch):
    """Cut short (a transfer that broke off) or with a syntax error half-way: no record of it is
    stored, even those before the break, and the error gives the line."""
    monkeypatch.setattr(readers, "JSON_CHUNK_CHARS", 64)
    _, rows = sample_rows()
    text = json.dumps(_records(rows), ensure_ascii=False, indent=2)
    broken = {"cut.json": text[: len(text) * 2 // 3],
              "syntax.json": text.replace('",\n    "处罚依据"', '"\n    "处罚依据"', 1)}
    for name, content in broken.items():
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        with pytest.raises(FileUnreadable, match=r"JSON 格式错误（第 \d+ 行）"):
            ingest(path)
    assert count(database, Batch) == 0
    with database.connect() as conn:
        assert conn.execute(select(Record.id)).first() is None


def test_a_record_that_is_only_a_note_is_named_by_its_number(database, tmp_path):
    _, rows = sample_rows()
    path = tmp_path / "note.json"
    path.write_text(json.dumps([rows[0], {"备注": "以上数据已核对", "处罚机关": "某局"}], ensure_ascii=False),
                    encoding="utf-8")
    report = ingest(path)
    assert [(e.line, e.code) for e in report.errors] == [(2, "not_a_record")]
    assert report.errors[0].message.startswith("第 2 条记录只有 2 个已知列有内容")


def test_json_that_holds_no_records_is_unreadable(tmp_path):
    for name, content in {"empty.json": "[]", "other.json": '{"total": 0, "rows": []}',
                          "scalar.json": "[1, 2, 3]"}.items():
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        with pytest.raises(FileUnreadable):
            ingest(path)
    # an API's empty month says so, rather than that its keys are no column names
    path = tmp_path / "empty_month.json"
    path.write_text('{"code": 200, "data": {"total": 0, "rows": []}}', encoding="utf-8")
    with pytest.raises(FileUnreadable, match=r"没有记录：“data\.rows”是空数组"):
        ingest(path)


def test_arrays_are_read_as_several_values_and_objects_are_refused_naming_the_column(database, tmp_path):
    """Systems export lists as JSON arrays (处罚类别 ["罚款", "警告"]) and sometimes nest an object
    (法定代表人 {"姓名": …, "证件号码": …}). An array of plain values is several values, as in a
    cell; an object is refused for its row, naming the column — never stored as program text,
    the id number inside it published with the name."""
    from xinyong.core import db
    from xinyong.ingest.service import rejected_rows
    from xinyong.records.models import RecordVersion

    _, rows = sample_rows()
    records = _records(rows[:3])
    records[0]["处罚类别"] = ["罚款", "警告"]
    records[0]["备注"] = ["已整改", "已缴纳罚款"]
    records[0]["附件"] = {"名称": "决定书.pdf"}  # not a catalogue column: ignored as such
    records[1]["法定代表人"] = {"姓名": "张三", "证件号码": "110101199003071234"}
    records[2]["处罚类别"] = []
    path = tmp_path / "nested.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    report = ingest(path)
    assert (report.accepted, report.rejected) == (1, 2), report.errors
    (nested, empty) = report.errors
    assert (nested.line, nested.field, nested.code) == (2, "法定代表人", "nested_value")
    assert "JSON 对象" in nested.message and "法定代表人证件号码" in nested.message
    assert (empty.line, empty.field, empty.code) == (3, "处罚类别", "missing_required")
    with database.connect() as conn:
        (data,) = conn.execute(select(RecordVersion.data)).scalars().all()
    stored = json.loads(data)
    assert stored["penalty_kinds"] == "罚款;警告"
    assert stored["remarks"] == "已整改；已缴纳罚款"
    assert "[" not in data and "110101199003071234" not in data
    with db.transaction() as session:
        handed_back = dict(rejected_rows(session, report.batch_id))
    assert json.loads(handed_back[2]["原始内容"])["法定代表人"]["姓名"] == "张三"


def test_a_record_with_half_a_character_is_rejected_and_the_rest_stored(database, tmp_path):
    """A serialiser that cut 𠮷 in two writes a lone \\ud842: the intake crashed with a traceback
    (exit 1) and stored nothing."""
    _, rows = sample_rows()
    broken = dict(rows[1], 行政相对人名称="孤立\ud842公司")
    path = tmp_path / "surrogate.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=True) for r in [rows[0], broken]) + "\n",
                    encoding="utf-8")
    report = ingest(path, "penalties")
    assert (report.accepted, report.rejected) == (1, 1)
    assert [(e.line, e.code) for e in report.errors] == [(2, "invalid_json")]
    assert "截断" in report.errors[0].message


def test_a_boolean_in_a_catalogue_column_rejects_its_record(database, tmp_path):
    """true was read as 1: `"罚款金额（万元）": true` was stored as a fine of 1 万元, and false in
    备注 as the remark "0". A boolean is no value of any column: the record is rejected, naming the
    column; a boolean under a key the catalogue does not read is ignored like the key."""
    _, rows = sample_rows()
    sent = [dict(rows[0], **{"罚款金额（万元）": True}), dict(rows[1], 备注=False),
            dict(rows[2], 已核对=True)]
    path = tmp_path / "booleans.json"
    path.write_text(json.dumps(sent, ensure_ascii=False), encoding="utf-8")
    report = ingest(path, "penalties")
    assert (report.accepted, report.rejected) == (1, 2)
    assert [(e.line, e.field, e.code) for e in report.errors] == [
        (1, "罚款金额（万元）", "json_boolean"), (2, "备注", "json_boolean")]
    assert "true（JSON 布尔值）" in report.errors[0].message and "第 1 条记录" in report.errors[0].message
    from xinyong.core import db
    from xinyong.ingest import service

    with db.transaction() as session:
        first = dict(service.rejected_rows(session, report.batch_id))[1]
    assert '"罚款金额（万元）": true' in first[service.RAW_TEXT_COLUMN]  # handed back as sent


def test_dates_sent_as_program_timestamps_are_read_with_a_warning(database, tmp_path):
    """Java's Jackson writes a java.util.Date as Unix milliseconds (1723478400000), .NET as
    /Date(…)/, and Date.toString() as Tue Aug 13 00:00:00 CST 2024: every record of such a system
    was rejected as an invalid date. They are read as the date in China; a number is said (it
    might be something else), a timestamp out of range is still an invalid date."""
    _, rows = sample_rows()
    written = [1723478400000, "1723478400", "/Date(1723478400000+0800)/", "Tue Aug 13 00:00:00 CST 2024",
               99999999999999]
    sent = [dict(rows[n], 处罚决定日期=w) for n, w in enumerate(written)]
    path = tmp_path / "timestamps.json"
    path.write_text(json.dumps(sent, ensure_ascii=False), encoding="utf-8")
    report = ingest(path, "penalties")
    assert (report.accepted, report.rejected) == (4, 1), report.errors
    assert [(e.line, e.code) for e in report.errors] == [(5, "invalid_date")]
    said = [(w.line, w.code) for w in report.warnings if w.field == "处罚决定日期"]
    assert said == [(1, "timestamp_date"), (2, "timestamp_date"), (3, "timestamp_date")]
    assert "按Unix 时间戳（毫秒）读作 2024/08/13（北京时间）" in report.warnings[0].message
    with database.connect() as conn:
        days = set(conn.execute(select(RecordVersion.decision_date).join(Batch, Batch.id == RecordVersion.batch_id)
                                .where(Batch.id == report.batch_id)).scalars())
    assert days == {dt.date(2024, 8, 13)}


def test_a_time_with_an_offset_gives_the_date_in_china(database, tmp_path):
    """Java and JavaScript send Beijing's midnight as 2024-01-04T16:00:00.000Z: it was stored as
    2024-01-04, a day early. A time without an offset is the date written."""
    from xinyong.core import db
    from xinyong.records import service as records

    _, rows = sample_rows()
    written = ["2024-01-04T16:00:00.000Z", "2024-01-04T23:30:00+08:00", "2024-01-04 23:30:00",
               "2024-01-04T20:00:00-05:00"]
    sent = [dict(rows[n], 处罚决定日期=w) for n, w in enumerate(written)]
    path = tmp_path / "instants.json"
    path.write_text(json.dumps(_records(sent), ensure_ascii=False), encoding="utf-8")
    report = ingest(path)
    assert (report.accepted, report.rejected) == (4, 0), report.errors
    with db.transaction() as session:
        stored = {r.decision_no: records.current_values(session, r)["decision_date"]
                  for r in session.scalars(select(Record))}
    assert [stored[r["行政处罚决定书文号"]] for r in sent] == ["2024-01-05", "2024-01-04", "2024-01-04", "2024-01-05"]


def _hits(records: list[dict[str, str | None]]) -> list[dict[str, object]]:
    """Records as Elasticsearch hands them back: each the _source of a document."""
    return [{"_index": "xzcf", "_type": "_doc", "_id": str(n), "_score": 1.0, "_source": r}
            for n, r in enumerate(records, start=1)]


@pytest.mark.parametrize("total", [5, 2530], ids=["all-hits", "first-page-only"])
def test_an_elasticsearch_search_response_is_read_from_its_sources(database, tmp_path, total):
    """A search response saved to a file ({"hits": {"hits": [{"_index": …, "_source": {…}}]}}) was
    unreadable: the records are the documents' _source, numbered as the document numbers them, the
    search engine's fields are no columns; a response holding fewer hits than it found says so."""
    _, rows = sample_rows()
    sent = _records(rows[20:25])
    sent[1]["处罚决定日期"] = "2027/01/01"
    response = {"took": 3, "timed_out": False, "_shards": {"total": 1, "successful": 1, "failed": 0},
                "hits": {"total": {"value": total, "relation": "eq"}, "max_score": 1.0, "hits": _hits(sent)}}
    path = tmp_path / "search.json"
    path.write_text(json.dumps(response, ensure_ascii=False, indent=2), encoding="utf-8")
    report = ingest(path)
    assert (report.format, report.rows_total, report.accepted, report.rejected) == ("json", 5, 4, 1), report.errors
    assert [(e.line, e.field, e.code) for e in report.errors] == [(2, "处罚决定日期", "future_date")]
    assert not [w for w in report.warnings if w.code == "unknown_column"]
    notes = [w.message for w in report.warnings if w.code == "file_note"]
    assert notes[0].startswith("文件是 Elasticsearch 的数据（查询结果或导出的文档）：已读取每个文档的 _source")
    missing = [n for n in notes if "hits.total" in n]
    assert missing == ([] if total == 5 else [
        "Elasticsearch 查询结果中 hits.total 为 2,530 条，文件中只有 5 条（查询默认只返回前 10 条）："
        "其余记录不在文件中，未报送。请分页导出全部记录（如用 scroll 或 search_after）后再报送。"])


@pytest.mark.parametrize(("name", "form", "line"), [("xzcf.jsonl", "jsonl", 4), ("xzcf.json", "json", 3)])
def test_an_elasticdump_export_is_read_from_its_sources(database, tmp_path, name, form, line):
    """elasticdump writes one document a line ({"_index": …, "_id": …, "_source": {…}}): it was
    unreadable. Each document's record is its _source; an error names the line of the file (named
    .jsonl) or, named .json, the record's number in the document, as other JSON is numbered."""
    _, rows = sample_rows()
    sent = _records(rows[30:34])
    sent[2]["处罚决定日期"] = "2027/01/01"
    lines = [json.dumps(hit, ensure_ascii=False) for hit in _hits(sent)]
    path = tmp_path / name
    path.write_text("\n".join([*lines[:2], "", *lines[2:]]) + "\n", encoding="utf-8")  # a blank line between
    report = ingest(path)
    assert (report.format, report.rows_total, report.accepted, report.rejected) == (form, 4, 3, 1), report.errors
    assert [(e.line, e.field, e.code) for e in report.errors] == [(line, "处罚决定日期", "future_date")]
    assert ingest(FIXTURES / "penalties.csv").unchanged == 3, "each _source must land as the CSV row"


def test_a_record_without_the_authority_code_says_what_is_missing(database, tmp_path):
    """A JSON record without the 处罚机关统一社会信用代码 key (and without 处罚机关) was told that the
    authority “” is not registered. It is told which key it lacks, on that key; one that names an
    unregistered authority is told that it lacks the code."""
    _, rows = sample_rows()
    sent = _records(rows[:3])
    del sent[0]["处罚机关统一社会信用代码"], sent[1]["处罚机关统一社会信用代码"], sent[1]["处罚机关"]
    path = tmp_path / "records.json"
    path.write_text(json.dumps(sent, ensure_ascii=False), encoding="utf-8")
    report = ingest(path)
    assert (report.accepted, report.rejected) == (1, 2), report.errors
    assert all("机关“”" not in e.message for e in report.errors), report.errors
    said = {(e.line, e.field, e.code): e.message for e in report.errors}
    assert said[(2, "处罚机关统一社会信用代码", "missing_required")] == (
        "第 2 条记录没有“处罚机关统一社会信用代码”，也没有可据以查找已登记机关的“处罚机关”，无法确定作出决定的机关："
        "请在记录中填写“处罚机关统一社会信用代码”")
    assert said[(2, "处罚机关", "missing_required")] == "必填项“处罚机关”为空"
    assert said[(1, "处罚机关", "authority_unknown")] == (
        f"第 1 条记录没有“处罚机关统一社会信用代码”，且机关“{rows[0]['处罚机关']}”未在平台登记，"
        "无法确定其统一社会信用代码：请在记录中填写“处罚机关统一社会信用代码”")
