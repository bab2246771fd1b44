"""Damaged files: whatever the damage, the answer is a report or a clear “unreadable” error, and an
unreadable file stores nothing. The damage is seeded random byte edits of good files."""

from __future__ import annotations

import io
import json
import random

import pytest

from filehelpers import FIXTURES, count, ingest, sample_rows
from xinyong.core.errors import FileUnreadable
from xinyong.ingest.models import Batch
from xinyong.records.models import Record


def _good_files() -> dict[str, bytes]:
    import openpyxl
    import xlwt

    headers, rows = sample_rows()
    table = [headers] + [list(r.values()) for r in rows[:12]]
    workbook = openpyxl.Workbook()
    for row in table:
        workbook.active.append(row)
    xlsx = io.BytesIO()
    workbook.save(xlsx)
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("行政处罚")
    for i, row in enumerate(table):
        for j, value in enumerate(row):
            sheet.write(i, j, value)
    xls = io.BytesIO()
    book.save(xls)
    jsonl = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows[:12]).encode("utf-8")
    return {"xlsx": xlsx.getvalue(), "xls": xls.getvalue(), "jsonl": jsonl,
            "csv": (FIXTURES / "penalties.csv").read_bytes()}


def _damage(data: bytes, rnd: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rnd.randint(1, 6)):
        at = rnd.randrange(len(out))
        if rnd.random() < 0.6:
            out[at] = rnd.randrange(256)
        else:
            del out[at:at + rnd.randint(1, 40)]
    return bytes(out)


def test_damaged_files_are_a_report_or_unreadable_never_a_crash(database, tmp_path):
    good = _good_files()
    rnd = random.Random(20261121)
    outcomes = {"report": 0, "unreadable": 0}
    for case in range(60):
        suffix = ("xlsx", "xls", "jsonl", "csv")[case % 4]
        path = tmp_path / f"damaged{case}.{suffix}"
        path.write_bytes(_damage(good[suffix], rnd))
        batches, records = count(database, Batch), count(database, Record)
        try:
            report = ingest(path)
        except FileUnreadable as exc:
            outcomes["unreadable"] += 1
            assert exc.message and "Error" not in exc.message.split("（")[0], exc.message
            assert (count(database, Batch), count(database, Record)) == (batches, records), path.name
            continue
        outcomes["report"] += 1
        assert report.rows_total == report.accepted + report.corrected + report.unchanged + report.rejected
    # the damage is neither always fatal nor always harmless: both paths were taken
    assert outcomes["report"] > 5 and outcomes["unreadable"] > 5, outcomes


@pytest.mark.parametrize("suffix", ["xlsx"])
def test_a_workbook_damaged_inside_its_sheet_is_unreadable_and_says_so(database, tmp_path, suffix):
    """The damage is met only while the rows are read (a bad CRC deep in the sheet): the intake
    stops, nothing of the file is stored, and the message says the workbook is damaged."""
    import zipfile

    data = bytearray(_good_files()[suffix])
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    path = tmp_path / f"crc.{suffix}"
    path.write_bytes(bytes(data))
    with pytest.raises(FileUnreadable, match="已损坏"):
        ingest(path)
    assert count(database, Batch) == 0 and count(database, Record) == 0


def test_damage_in_a_later_sheet_makes_the_workbook_unreadable(database, tmp_path):
    """A workbook's records may run over several sheets: damage in the second is no mere "sheet
    without a header" to pass over — the file is unreadable, and nothing of the first is stored."""
    import zipfile

    import openpyxl

    headers, rows = sample_rows()
    workbook = openpyxl.Workbook()
    for title, part in (("法人", rows[:20]), ("自然人", rows[20:40])):
        sheet = workbook.active if title == "法人" else workbook.create_sheet(title)
        sheet.title = title
        sheet.append(headers)
        for r in part:
            sheet.append(list(r.values()))
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/worksheets/sheet2.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size * 3 // 4] ^= 0xFF  # in its rows, well after its header
    path = tmp_path / "two.xlsx"
    path.write_bytes(bytes(data))
    with pytest.raises(FileUnreadable, match=r"工作表“自然人”.*已损坏"):
        ingest(path)
    assert count(database, Batch) == 0 and count(database, Record) == 0


def test_an_empty_or_cut_short_workbook_is_called_so(database, tmp_path):
    """A 0-byte upload and a workbook cut off half-way were both said to be "another file with a
    renamed extension", which sends the clerk looking for the wrong mistake."""
    whole = _good_files()["xlsx"]
    (tmp_path / "empty.xlsx").write_bytes(b"")
    (tmp_path / "cut.xlsx").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(FileUnreadable, match="文件是空的"):
        ingest(tmp_path / "empty.xlsx")
    with pytest.raises(FileUnreadable, match="不完整"):
        ingest(tmp_path / "cut.xlsx")


def test_utf16_text_without_its_bom_is_named_as_such(database, tmp_path):
    """Tab-separated UTF-16 without a BOM was called "binary content": the clerk could not tell
    what to do. It is named, with the way out."""
    headers, rows = sample_rows()
    text = "\n".join("\t".join(r[h] for h in headers) for r in rows[:3])
    (tmp_path / "unicode.txt").write_bytes(("\t".join(headers) + "\n" + text).encode("utf-16-le"))
    with pytest.raises(FileUnreadable, match="没有字节顺序标记（BOM）的 UTF-16"):
        ingest(tmp_path / "unicode.txt")


@pytest.mark.parametrize(("name", "entries", "said"), [
    ("处罚.ods", {"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"},
     "OpenDocument 表格（.ods"),
    ("处罚.xlsx", {"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"},
     "另存为” Excel 工作簿（.xlsx）"),
    ("处罚.docx", {"[Content_Types].xml": "<x/>", "word/document.xml": "<x/>"}, "文字处理文档"),
    ("处罚.zip", {"1月.csv": "a,b\n", "2月.csv": "a,b\n"}, "请解压后分别报送"),
])
def test_a_zip_that_is_no_workbook_says_what_it_is(database, tmp_path, name, entries, said):
    """A LibreOffice .ods, a Word document or a zip of CSV files was told "缺少 xl/workbook.xml",
    which says nothing to the sender; each now says what the file is and what to send instead.
    Nothing is stored."""
    import zipfile

    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        for entry, text in entries.items():
            zf.writestr(entry, text)
    with pytest.raises(FileUnreadable) as raised:
        ingest(path)
    assert said in raised.value.message and "xl/workbook.xml" not in raised.value.message
    assert count(database, Batch) == 0
