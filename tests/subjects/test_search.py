"""Public search: a code finds its subject exactly, part of a name finds subjects fuzzily."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from filehelpers import FIXTURES, ingest, sample_rows, write_rows
from xinyong.core import db
from xinyong.core.errors import NotFound
from xinyong.subjects.models import Subject
from xinyong.subjects.service import find_public, public_code, search

pytestmark = pytest.mark.usefixtures("database")

NAME = "行政相对人名称"
USCC = "行政相对人代码_1(统一社会信用代码)"


@pytest.fixture
def loaded(database: sa.Engine) -> None:
    ingest(FIXTURES / "penalties.csv")
    ingest(FIXTURES / "licences.csv", "licences")


def _search(q: str, page: int = 1, per_page: int = 20):  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return search(session, q, page, per_page)


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("typed", ["911301026CR765LW53", " 911301026cr765lw53 ", "9113-0102-6CR7-65LW53",
                                   "９１１３０１０２６ＣＲ７６５ＬＷ５３"])
def test_a_uscc_finds_its_subject_exactly(typed):
    result = _search(typed)
    assert result.by_code and result.total == 1
    assert [h.name for h in result.items] == ["石家庄市瑞丰新源贸易有限公司"]
    assert result.items[0].code == "911301026CR765LW53"


@pytest.mark.usefixtures("loaded")
def test_a_resident_id_finds_the_person_and_is_never_echoed_in_full():
    result = _search("22040219981026622x")
    assert result.by_code and [h.name for h in result.items] == ["孙建华"]
    hit = result.items[0]
    assert result.query == "2204**********622X"
    assert hit.masked_id == "2204**********622X" and hit.uscc is None
    assert hit.code.startswith("ZRR-") and "22040219981026622X" not in hit.model_dump_json()


@pytest.mark.usefixtures("loaded")
def test_a_registration_number_finds_the_individual_business():
    result = _search("440402640398031")
    assert [h.name for h in result.items] == ["珠海市新源小吃店"]
    assert result.items[0].uscc is None  # the placeholder is not a code to show
    with db.transaction() as session:
        assert find_public(session, result.items[0].code).name == "珠海市新源小吃店"


@pytest.mark.usefixtures("loaded")
def test_part_of_a_name_finds_matching_subjects_best_first():
    result = _search("瑞丰新源")
    assert not result.by_code
    names = [h.name for h in result.items]
    assert "石家庄市瑞丰新源贸易有限公司" in names
    assert all("瑞丰新源" in n for n in names)
    scores = [h.score for h in result.items]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("typed", ["石家庄市瑞峰新源贸易", "石家庄瑞丰新源贸易有限公司",
                                   "石家庄市 瑞丰新源贸易有限公司 "])
def test_a_typo_or_a_missing_character_still_finds_the_subject_first(typed):
    result = _search(typed)
    assert result.items[0].name == "石家庄市瑞丰新源贸易有限公司"


def test_full_width_and_half_width_brackets_match(tmp_path):
    headers, rows = sample_rows()
    row = dict(rows[0], **{NAME: "石家庄市瑞丰新源（河北）贸易有限公司"})
    ingest(write_rows(tmp_path / "brackets.csv", headers, [row]))
    for typed in ["瑞丰新源(河北)贸易", "瑞丰新源（河北）", "瑞丰新源【河北】贸易"]:
        result = _search(typed)
        assert result.items and result.items[0].name == "石家庄市瑞丰新源（河北）贸易有限公司", typed


def test_a_former_name_finds_the_subject(tmp_path):
    headers, rows = sample_rows()
    old = dict(rows[0])
    new = dict(rows[0], **{NAME: "河北瑞德康泰实业集团有限公司", "行政处罚决定书文号": "石家监督罚〔2025〕9号",
                           "处罚决定日期": "2025/03/01"})
    ingest(write_rows(tmp_path / "renamed.csv", headers, [old, new]))
    result = _search("瑞丰新源贸易")
    assert result.items[0].name == "河北瑞德康泰实业集团有限公司"
    assert result.items[0].matched_name == "石家庄市瑞丰新源贸易有限公司"
    assert _search("瑞德康泰").items[0].matched_name is None


@pytest.mark.usefixtures("loaded")
def test_results_are_paginated_with_the_total():
    everything = _search("有限公司", per_page=100)
    assert everything.total > 30 and len(everything.items) == everything.total
    seen = []
    for page in range(1, -(-everything.total // 10) + 1):
        result = _search("有限公司", page=page, per_page=10)
        assert result.total == everything.total
        seen += [h.subject_id for h in result.items]
    assert seen == [h.subject_id for h in everything.items]
    assert _search("有限公司", page=99, per_page=10).items == []


@pytest.mark.usefixtures("loaded")
def test_short_queries_and_misses():
    assert [h.name for h in _search("徐勇").items] == ["徐勇"]
    assert _search("完全不存在的名称甲乙丙").total == 0
    assert _search("   ").total == 0
    assert _search("100%_").total == 0  # LIKE wildcards are text


def test_the_index_follows_renames_and_deletes(tmp_path):
    headers, rows = sample_rows()
    ingest(write_rows(tmp_path / "one.csv", headers, [rows[0]]))
    old_name = rows[0][NAME]
    renamed = dict(rows[0], **{NAME: "改名后的公司", "行政处罚决定书文号": "改名后罚〔2026〕1号",
                               "处罚决定日期": "2026/11/02"})
    ingest(write_rows(tmp_path / "renamed.csv", headers, [renamed]))
    [hit] = _search("改名后的").items
    assert hit.name == "改名后的公司" and hit.matched_name is None
    [hit] = _search(old_name).items  # the former name still finds the subject, under its new name
    assert hit.name == "改名后的公司" and hit.matched_name == old_name
    with db.transaction() as session:
        for table in ("record_versions", "records", "legal_representatives", "subject_names", "subjects"):
            session.execute(sa.text(f"DELETE FROM {table}"))
    # no dangling entry survives the delete
    assert _search("改名后的").total == 0


@pytest.mark.usefixtures("loaded")
def test_a_person_is_addressed_by_a_reference_never_by_the_id():
    with db.transaction() as session:
        person = session.scalars(sa.select(Subject).where(Subject.kind == "natural_person")).first()
        assert public_code(person) == f"ZRR-{person.id}"
        assert find_public(session, f"ZRR-{person.id}").id == person.id
        organisation = session.scalars(sa.select(Subject).where(Subject.uscc.is_not(None))).first()
        with pytest.raises(NotFound):  # an organisation has a code; ZRR- does not address it
            find_public(session, f"ZRR-{organisation.id}")
