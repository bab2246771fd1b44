"""Organisation names: one subject under differently typed names, and the name users see."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyong.core.names import display_name, normalize_name

PROPERTY = settings(max_examples=200, deadline=None)

PADDING = [" ", "\u3000", "\xa0", "\t", "\n", "\r\n", "\u200b", "\ufeff"]
NAME_CHARS = "珠海市香洲区拱北贸易有限公司分店ABCabc123()·"


@pytest.mark.parametrize(
    "typed",
    [
        "珠海市香洲区（拱北）贸易有限公司",
        "珠海市香洲区(拱北)贸易有限公司",
        "珠海市香洲区【拱北】贸易有限公司",
        "珠海市香洲区〔拱北〕贸易有限公司",
        "珠海市香洲区[拱北]贸易有限公司",
        "珠海市香洲区［拱北］贸易有限公司",
        " 珠海市 香洲区（拱北）\u3000贸易有限公司\xa0",
        "\ufeff珠海市香洲区\u200b（拱北）贸易有限公司",
    ],
)
def test_differently_typed_names_match(typed: str) -> None:
    assert normalize_name(typed) == "珠海市香洲区(拱北)贸易有限公司"


def test_latin_letters_match_regardless_of_width_and_case() -> None:
    assert normalize_name("ＡＢＣ（珠海）科技有限公司") == normalize_name("abc(珠海)科技有限公司")
    assert normalize_name("ABC科技") == "abc科技"


def test_different_names_stay_different() -> None:
    assert normalize_name("珠海市香洲区贸易有限公司") != normalize_name("珠海市香洲区贸易公司")
    assert normalize_name("珠海市香洲区贸易有限公司") != normalize_name("珠海市香洲区商贸有限公司")


@PROPERTY
@given(
    name=st.text(alphabet=NAME_CHARS, min_size=1, max_size=20),
    noise=st.lists(st.sampled_from(PADDING), min_size=1, max_size=20),
    data=st.data(),
)
def test_whitespace_anywhere_does_not_change_the_key(
    name: str, noise: list[str], data: st.DataObject
) -> None:
    typed = list(name)
    for pad in noise:
        typed.insert(data.draw(st.integers(0, len(typed))), pad)
    assert normalize_name("".join(typed)) == normalize_name(name)


@PROPERTY
@given(name=st.text(max_size=30))
def test_the_key_is_stable_and_has_no_whitespace(name: str) -> None:
    key = normalize_name(name)
    assert normalize_name(key) == key
    assert not any(char.isspace() for char in key)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\u3000珠海市香洲区（拱北）贸易有限公司\xa0\n", "珠海市香洲区（拱北）贸易有限公司"),
        ("\ufeff 珠海 ＡＢＣ 科技有限公司\u200b ", "珠海 ＡＢＣ 科技有限公司"),
        ("珠海市【拱北】贸易有限公司", "珠海市【拱北】贸易有限公司"),
        (" \t ", ""),
    ],
)
def test_display_name_trims_only_the_edges(raw: str, shown: str) -> None:
    assert display_name(raw) == shown


@PROPERTY
@given(
    name=st.text(alphabet=NAME_CHARS + " （）【】ＡＢＣ\u3000", min_size=1, max_size=20),
    before=st.lists(st.sampled_from(PADDING), max_size=4),
    after=st.lists(st.sampled_from(PADDING), max_size=4),
)
def test_display_name_keeps_the_department_text(
    name: str, before: list[str], after: list[str]
) -> None:
    inner = name.strip()
    assert display_name("".join(before) + inner + "".join(after)) == inner


SPELLINGS = ["石家监督罚〔2024〕1号", "石家监督罚[2024]1号", "石家监督罚【2024】1号", "石家监督罚（2024）1号",
             "石家监督罚(２０２４)1号", "石家监督罚 〔2024〕 1号", "石家监督罚〈2024〉1号", "石家监督罚《2024》1号",
             "石家监督罚「2024」1号", "石家监督罚｛2024｝1号", "石家监督罚﹝2024﹞1号", "石家监督罚\u200b〔2024〕1号"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_decision_number_has_one_key_however_its_brackets_are_typed(spelling: str) -> None:
    from xinyong.core.names import document_number_key

    assert document_number_key(spelling) == document_number_key(SPELLINGS[0]) == "石家监督罚(2024)1号"


@pytest.mark.parametrize("padded", ["石家监督罚〔2024〕01号", "石家监督罚〔2024〕第1号", "石家监督罚〔2024〕第0001号",
                                    "石家监督罚[2024] 第 ０１ 号", "石家监督罚〔2024〕第第1号"])
def test_the_serial_number_is_one_number_however_it_is_padded(padded: str) -> None:
    """GB/T 9704-2012 7.2.3: the serial number has no 第 and no padding zeros; a template that
    adds them writes the same decision."""
    from xinyong.core.names import document_number_key

    assert document_number_key(padded) == "石家监督罚(2024)1号"


@pytest.mark.parametrize("other", ["石家监督罚〔2023〕1号", "石家监督罚〔2024〕11号", "石家监督罚〔2024〕10号",
                                   "石家监督罚〔2024〕0号", "石家监罚〔2024〕1号", "石家监督罚〔2024〕1-1号",
                                   "石家监督罚〔2024〕1号之一", "石家监督罚〔2024〕第1"])
def test_another_number_has_another_key(other: str) -> None:
    from xinyong.core.names import document_number_key

    assert document_number_key(other) != document_number_key(SPELLINGS[0])


@given(st.text(max_size=40) | st.text(alphabet="罚第0１2号〔〕[] \u3000", max_size=20))
def test_the_migration_folds_stored_numbers_as_the_platform_does(text: str) -> None:
    """Migration 0012 keys the stored numbers with its own frozen copy of the fold (on 0008's):
    the two must agree, or a stored record would not be found by the next file that sends its
    number."""
    import importlib.util

    from xinyong.core.config import MIGRATIONS_DIR
    from xinyong.core.names import document_number_key

    path = MIGRATIONS_DIR / "versions" / "0012_serial_number_key.py"
    spec = importlib.util.spec_from_file_location("migration_0012", path)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration._fold(text) == document_number_key(text)
