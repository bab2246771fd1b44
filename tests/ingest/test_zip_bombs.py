"""Zip bombs: an .xlsx is a zip, and a 1 MB upload could hold a cell of 1 GB of text. A workbook
whose parts would inflate beyond sane bounds is refused before anything is inflated, saying which
part and what to do, and nothing is stored; a real workbook, however well it compresses, still reads.

The bombs here inflate to 64 MB from under 100 KB: refused, they are never inflated."""

from __future__ import annotations

import random
import string
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import openpyxl
import pytest

from filehelpers import count, ingest, sample_rows
from xinyong.core.errors import FileUnreadable
from xinyong.ingest.models import Batch
from xinyong.records.models import Record

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
          'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
          'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
          'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
          'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType='
          '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_PARTS = {
    "[Content_Types].xml": _TYPES,
    "_rels/.rels":
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELATIONSHIPS}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml":
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="处罚信息" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels":
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELATIONSHIPS}"><Relationship Id="rId1" '
        f'Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
        f'Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
}


def _column(index: int) -> str:
    return openpyxl.utils.get_column_letter(index + 1)


def _bomb(path: Path, megabytes: int = 64) -> Path:
    """A workbook with the template's header and one cell of ``megabytes`` of one letter, written a
    megabyte at a time (the test never holds it): the probe's bomb, smaller."""
    return _workbook(path, (b"A" * (1 << 20) for _ in range(megabytes)))


def _workbook(path: Path, cell: Iterable[bytes], *, shared: bool = False) -> Path:
    """A workbook as some generators write it (inline strings, no ``<dimension>``): the template's
    header, and a row whose first cell is ``cell`` (``shared``: in the shared strings, as Excel
    writes a text)."""
    headers, _rows = sample_rows()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, text in _PARTS.items():
            zf.writestr(name, text)
        with zf.open("xl/sharedStrings.xml", "w") as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}"><si><t>'.encode())
            for part in cell if shared else ():
                fh.write(part)
            fh.write(b"</t></si></sst>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            fh.write(f'<?xml version="1.0"?><worksheet xmlns="{_MAIN}"><sheetData><row r="1">'.encode())
            for i, header in enumerate(headers):
                fh.write(f'<c r="{_column(i)}1" t="inlineStr"><is><t>{header}</t></is></c>'.encode())
            if shared:
                fh.write(b'</row><row r="2"><c r="A2" t="s"><v>0</v></c></row></sheetData></worksheet>')
                return path
            fh.write(b'</row><row r="2"><c r="A2" t="inlineStr"><is><t>')
            for part in cell:
                fh.write(part)
            fh.write(b"</t></is></c></row></sheetData></worksheet>")
    return path


def test_a_zip_bomb_workbook_is_refused_before_it_is_inflated_and_nothing_is_stored(database, tmp_path):
    path = _bomb(tmp_path / "处罚.xlsx")
    assert path.stat().st_size < 200_000
    with pytest.raises(FileUnreadable) as raised:
        ingest(path)
    message = raised.value.message
    assert "工作表“处罚信息”（xl/worksheets/sheet1.xml）压缩比异常" in message, message
    assert "64 MB" in message and "疑似压缩炸弹" in message and "未保存任何数据" in message
    assert "另存为正常的 .xlsx 或 CSV" in message
    assert count(database, Batch) == 0 and count(database, Record) == 0


@pytest.fixture
def sender(database) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An officer of a department, and an API key of it."""
    from webhelpers import make_department, make_user
    from xinyong.accounts import service as accounts
    from xinyong.accounts.access import Role
    from xinyong.core import db

    with db.transaction() as session:
        department = make_department(session)
        make_user(session, Role.OFFICER, department=department, username="officer_bomb")
        key, _ = accounts.create_api_key(session, department_id=department.id, name="报送系统", created_by="test")
    return {"officer": "officer_bomb", "key": key}


def test_a_zip_bomb_uploaded_on_the_workbench_or_the_api_is_422(client, sender, database, tmp_path):  # type: ignore[no-untyped-def]
    from webhelpers import login

    content = _bomb(tmp_path / "处罚.xlsx").read_bytes()
    api = client.post("/api/v1/batches?kind=penalties", headers={"X-API-Key": sender["key"]},
                      files={"file": ("处罚.xlsx", content, "application/octet-stream")})
    assert api.status_code == 422, api.text[:500]
    error = api.json()["error"]
    assert error["code"] == "file_unreadable" and "疑似压缩炸弹" in error["message"], error
    csrf = login(client, sender["officer"])
    page = client.post("/workbench/upload", data={"kind": "penalties", "csrf_token": csrf},
                       files={"file": ("处罚.xlsx", content, "application/octet-stream")}, follow_redirects=False)
    assert page.status_code == 422 and "工作表“处罚信息”" in page.text and "疑似压缩炸弹" in page.text
    assert count(database, Batch) == 0 and count(database, Record) == 0


def test_a_zip_bomb_in_the_shared_strings_is_refused(database, tmp_path):
    """openpyxl reads the shared strings whole as it opens the workbook."""
    path = _workbook(tmp_path / "处罚.xlsx", (b"A" * (1 << 20) for _ in range(64)), shared=True)
    with pytest.raises(FileUnreadable, match=r"共享字符串表（xl/sharedStrings\.xml，存放单元格中的文字）压缩比异常"):
        ingest(path)
    assert count(database, Batch) == 0


def test_the_limits_are_settings(database, tmp_path, monkeypatch):
    """A platform may loosen the ratio, and cap the size of a sheet lower than the default."""
    from xinyong.core.config import reset_settings

    path = _bomb(tmp_path / "处罚.xlsx", megabytes=8)
    monkeypatch.setenv("XINYONG_XLSX_MAX_INFLATE_RATIO", "100000")
    monkeypatch.setenv("XINYONG_XLSX_MAX_SHEET_MB", "5")
    reset_settings()
    with pytest.raises(FileUnreadable, match=r"工作表“处罚信息”（xl/worksheets/sheet1\.xml）解压后有 8\.0 MB，"
                                             r"超过平台的上限 5\.0 MB.*请把记录分成几个文件"):
        ingest(path)
    assert count(database, Batch) == 0


def _text(size: int) -> str:
    """Text that compresses as badly as real text (the ratio check does not see it)."""
    rnd = random.Random(size)
    return "".join(rnd.choices(string.ascii_letters + "，。的是在", k=size))


@pytest.mark.parametrize("how", ["inline, no dimension", "shared string"])
def test_a_cell_far_longer_than_excel_allows_is_refused(database, tmp_path, how):
    """Excel and WPS keep at most 32,767 characters in a cell: a text of 2 million, which compresses
    too poorly to show in the ratio, cannot come from them and is refused before openpyxl holds it
    (as an inline string in a sheet that does not declare its size openpyxl reads the whole sheet on
    opening the workbook; a shared string is read when the workbook is opened)."""
    path = _workbook(tmp_path / "长文字.xlsx", [_text(2_000_000).encode()], shared=how == "shared string")
    with pytest.raises(FileUnreadable) as raised:
        ingest(path)
    message = raised.value.message
    part = "工作表“处罚信息”（xl/worksheets/sheet1.xml）" if how.startswith("inline") else "共享字符串表"
    assert part in message and "超过 1,048,576 字节的一整段文字" in message and "32,767" in message, message
    assert count(database, Batch) == 0


def test_a_long_text_in_the_rows_of_a_sheet_that_declares_its_size_is_refused(database, tmp_path):
    """openpyxl reads such a sheet's rows only when they are iterated: the reader's own scan of the
    sheet, before that, refuses the text; it is the whole file that is unreadable, not a sheet
    without a header passed over for the next."""
    headers, rows = sample_rows()
    workbook = openpyxl.Workbook()
    workbook.active.title = "处罚信息"
    workbook.active.append(headers)
    workbook.active.append(list(rows[0].values()))
    second = workbook.create_sheet("自然人")
    second.append(headers)
    for r in rows[1:4]:
        second.append(list(r.values()))
    path = tmp_path / "长文字.xlsx"
    workbook.save(path)
    cell = b'<c r="AZ2" t="inlineStr"><is><t>' + _text(2_000_000).encode() + b"</t></is></c>"
    _rewrite_sheet(path, lambda xml: xml.replace(b"</row></sheetData>", cell + b"</row></sheetData>"))
    with zipfile.ZipFile(path) as zf:
        assert b"<dimension " in zf.read("xl/worksheets/sheet1.xml")
    with pytest.raises(FileUnreadable) as raised:
        ingest(path)
    assert "工作表“处罚信息”（xl/worksheets/sheet1.xml）含有超过 1,048,576 字节的一整段文字" in raised.value.message
    assert count(database, Batch) == 0


def test_a_real_workbook_that_compresses_well_still_reads(database, tmp_path):
    """A template formatted ahead, down to row 70,000, has a styled empty row for each (as Excel
    writes them): the best-compressing part measured in real workbooks, about 28 to 1, and over the
    size from which the ratio is checked. It reads. (It cannot fail on the old code: it guards
    against refusing real workbooks.)"""
    headers, rows = sample_rows()
    workbook = openpyxl.Workbook()
    workbook.active.append(headers)
    for r in rows:
        workbook.active.append(list(r.values()))
    path = tmp_path / "模板.xlsx"
    workbook.save(path)
    empty = "".join(f'<row r="{n}" spans="1:{len(headers)}" s="1" customFormat="1" ht="14.25"/>'
                    for n in range(len(rows) + 2, 70_001))
    _rewrite_sheet(path, lambda xml: xml.replace(b"</sheetData>", empty.encode() + b"</sheetData>"))
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size > 4 << 20 and 20 < info.file_size / info.compress_size < 100
    report = ingest(path)
    assert report.rows_total == len(rows)


def _rewrite_sheet(path: Path, change: Callable[[bytes], bytes]) -> None:
    """The workbook with its first sheet's XML changed."""
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    parts["xl/worksheets/sheet1.xml"] = change(parts["xl/worksheets/sheet1.xml"])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
