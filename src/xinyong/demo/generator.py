"""Deterministic synthetic 双公示 data: departments, subjects, licence and penalty rows.

Everything here is fictional but shaped like the files departments exchange (DOMAIN.md §6):
the same Chinese headers, valid codes (GB 32100 USCC, GB 11643 resident id, 15-digit
registration number), real laws cited for each violation, and the three broad kinds of
penalty — minor (警告/通报批评 only), general (fines, confiscation) and serious (吊销许可证件,
责令停产停业, 责令关闭, 限制从业, 降低资质等级, or fines of 100万元 and more).

Determinism: every random choice comes from a :class:`random.Random` seeded from ``seed``, or
from an integer mix of ``seed`` and a subject's index; nothing reads the global random state or
the clock (``today`` is an argument). The same ``(seed, arguments)`` give the same rows.

Subjects: subject ``i`` depends on ``(seed, i)`` only, so it carries the same name and codes in
:func:`subjects`, :func:`penalty_rows` and :func:`licence_rows`. Names and codes are unique by
construction (keyed bijections of ``i``, not random draws that could collide): one in 20
subjects is a natural person, one in 20 an individual business (alternately with a '92' USCC and
with the placeholder USCC plus a registration number), the rest organisations — mostly
enterprises ('91'), about one in 16 a social organisation ('51'/'52'). Resident ids use the
area code in force in the holder's birth year, so they validate without warnings.

Rows are ``dict[str, str]`` keyed by the sample headers; decision numbers are unique per
deciding authority (counted per authority and year), and the generated rows never repeat a
decision identity — corrections are a separate concern for the tests that need them.

Everything streams: rows are produced one by one and :func:`write_csv` writes them as they come.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import itertools
import operator
import random
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from xinyong.catalogue.service import get_catalogue
from xinyong.core.ids import PLACEHOLDER_USCC, make_org_code, make_reg_no, make_ric, make_uscc

__all__ = [
    "CITIES",
    "LICENCE_HEADERS",
    "PENALTY_HEADERS",
    "City",
    "DemoSubject",
    "Department",
    "bench_penalty_rows",
    "departments",
    "licence_rows",
    "penalty_rows",
    "subjects",
    "write_csv",
]

# --------------------------------------------------------------------------- headers

_SUBJECT_HEADERS: tuple[str, ...] = (
    "行政相对人名称",
    "行政相对人类别",
    "行政相对人代码_1(统一社会信用代码)",
    "行政相对人代码_2(工商注册号)",
    "行政相对人代码_3(组织机构代码)",
    "行政相对人代码_4(税务登记号)",
    "行政相对人代码_5(事业单位证书号)",
    "行政相对人代码_6(社会组织登记证号)",
    "法定代表人",
    "法定代表人证件类型",
    "法定代表人证件号码",
    "证件类型",
    "证件号码",
)

PENALTY_HEADERS: tuple[str, ...] = (
    *_SUBJECT_HEADERS,
    "行政处罚决定书文号",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "处罚类别",
    "处罚内容",
    "罚款金额（万元）",
    "没收违法所得、没收非法财物的金额（万元）",
    "暂扣或吊销证照名称及编号",
    "处罚决定日期",
    "处罚有效期",
    "公示截止期",
    "处罚机关",
    "处罚机关统一社会信用代码",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "备注",
)

LICENCE_HEADERS: tuple[str, ...] = (
    *_SUBJECT_HEADERS,
    "行政许可决定文书名称",
    "行政许可决定文书号",
    "许可类别",
    "许可证书名称",
    "许可编号",
    "许可内容",
    "许可决定日期",
    "有效期自",
    "有效期至",
    "许可机关",
    "许可机关统一社会信用代码",
    "当前状态",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "备注",
)

def _open_ended() -> str:
    """How the 双公示 format writes "no end" (a catalogue convention)."""
    return f"{get_catalogue().open_ended_date:%Y/%m/%d}"

KIND_ORGANISATION = "法人及非法人组织"
KIND_PERSON = "自然人"
KIND_INDIVIDUAL_BUSINESS = "个体工商户"

# --------------------------------------------------------------------------- places

# Cities, in their own right (the code used in every USCC, department code and registration
# number) and as places of birth (the resident-id area code in force in a given birth year).


@dataclass(frozen=True)
class City:
    """A city; ``area_code`` is the GB/T 2260 code its registrations carry (often a district)."""

    name: str
    area_code: str


CITIES: tuple[City, ...] = (
    City("石家庄市", "130102"),
    City("珠海市", "440402"),
    City("舞钢市", "410481"),
    City("辽源市", "220402"),
    City("西安市", "610102"),
    City("杭州市", "330102"),
    City("济南市", "370100"),
    City("深圳市", "440300"),
)

# Per city (same order): the district named in individual-business names, and resident-id area
# codes as (first birth year, code), newest first — a code is only used for births in or after
# the year it came into force, so validate_ric raises no "area created after birth" warning.
_DISTRICTS = ("长安区", "香洲区", "", "龙山区", "新城区", "上城区", "历下区", "福田区")
_RIC_AREAS: tuple[tuple[tuple[int, str], ...], ...] = (
    ((1983, "130102"), (0, "130100")),
    ((1984, "440402"), (0, "440400")),
    ((1990, "410481"), (1982, "410412"), (0, "410400")),
    ((1983, "220402"), (0, "222102")),
    ((1983, "610102"), (0, "610100")),
    ((1983, "330102"), (0, "330100")),
    ((1983, "370102"), (0, "370100")),
    ((1983, "440304"), (0, "440300")),
)
# Subjects per city: bigger cities get more (indices into CITIES).
_CITY_WHEEL = (7, 7, 7, 5, 5, 5, 4, 4, 4, 6, 6, 0, 0, 1, 1, 3, 3, 2, 2, 6)

# --------------------------------------------------------------------------- departments


@dataclass(frozen=True)
class Department:
    """A deciding authority: a government body with an '11' USCC."""

    name: str
    uscc: str
    city: City


# (kind, penalty decision-number word, licence decision-number word)
_DEPT_KINDS: tuple[tuple[str, str, str], ...] = (
    ("市场监督管理局", "市监罚", "市监许"),
    ("生态环境局", "环罚", "环许"),
    ("交通运输局", "交罚", "交许"),
    ("应急管理局", "应急罚", "应急许"),
    ("住房和城乡建设局", "建罚", "建许"),
    ("卫生健康委员会", "卫健罚", "卫健许"),
    ("税务局", "税罚", "税许"),
    ("统计局", "统罚", "统许"),
    ("发展和改革局", "发改罚", "发改许"),
)
_DEPT_INDEX = {kind: n for n, (kind, _p, _l) in enumerate(_DEPT_KINDS)}


def _dept_name(city: City, kind: str) -> str:
    if kind == "税务局":
        return f"国家税务总局{city.name}税务局"
    return f"{city.name}{kind}"


def departments(seed: int = 2026) -> list[Department]:
    """Every department of every city, city by city, with seed-dependent valid USCCs.

    Their organisation codes start with '00', which no generated subject's does, so a
    department never shares a code with a subject.
    """
    rng = random.Random(f"xinyong-demo:{seed}:departments")
    bodies = rng.sample(range(1_000_000), len(CITIES) * len(_DEPT_KINDS))
    result = []
    for n, (city, (kind, _p, _l)) in enumerate(itertools.product(CITIES, _DEPT_KINDS)):
        org = make_org_code(f"00{bodies[n]:06d}")
        result.append(Department(_dept_name(city, kind), make_uscc(f"11{city.area_code}{org}"), city))
    return result


# --------------------------------------------------------------------------- subjects


@dataclass(frozen=True)
class DemoSubject:
    """A generated subject.

    ``uscc`` is None for natural persons and for individual businesses without a USCC (those
    carry ``reg_no`` and are reported with the placeholder USCC); ``id_number`` is a natural
    person's resident id; ``legal_rep``/``legal_rep_id`` are an organisation's legal
    representative or an individual business's operator. ``former_name``: the name an
    enterprise renamed within the window had; its earlier records carry it.
    """

    kind: str
    name: str
    uscc: str | None
    reg_no: str | None
    id_number: str | None
    legal_rep: str | None
    legal_rep_id: str | None
    city: City
    former_name: str | None = None


_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤"
)
_COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "司徒",
)
_ALL_SURNAMES: tuple[str, ...] = (*_SURNAMES, *_COMPOUND_SURNAMES)
_GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建国文斌宇浩凯健俊帆旭宁龙林欣佳"
    "怡婷雪琳晨博鑫倩颖梓轩涵雨思嘉睿晓志海"
)
# Given names: one character, or two.
_GIVEN_NAMES: tuple[str, ...] = (
    *_GIVEN_CHARS,
    *(a + b for a in _GIVEN_CHARS for b in _GIVEN_CHARS),
)

_TRADE_WORDS = (
    "瑞丰新源信达华诚宏达嘉和恒信同创金桥博远天禾明德正元永泰鼎盛海澄汇通盛世弘毅中和安泰东升利民"
    "兴业隆基富源聚丰鸿运祥瑞康宁德润卓越华美远航天成长青润泽锦程万象启明凯旋银河星辰晨光春晖金穗"
    "丰泽宝丰和泰佳禾华宇泰和顺达通达鑫源源丰鼎立科达精诚立信广厦国泰民安福瑞吉祥如意百川千禧九州"
    "四海八方金鼎银泰宏图伟业腾飞骏马青松翠柏绿洲蓝天白云红星东方南风西林北辰中兴华夏神州亚泰恒达"
    "恒远恒昌恒丰宏远宏泰宏盛嘉华嘉信嘉盛荣昌荣华荣盛昌盛"
)
_TRADE_NAMES: tuple[str, ...] = tuple(_TRADE_WORDS[n : n + 2] for n in range(0, len(_TRADE_WORDS), 2))
_INDUSTRIES = (
    "商贸", "贸易", "科技", "餐饮管理", "食品", "医药", "物流", "建筑工程", "机械制造", "环保科技",
    "电子", "房地产开发", "物业管理", "信息技术", "文化传媒", "广告", "汽车销售", "建材", "化工",
    "纺织", "服装", "家具", "酒店管理", "旅游", "教育咨询", "人力资源", "装饰工程", "运输",
    "农业开发", "水产",
)  # fmt: skip
_COMPANY_FORMS = ("有限公司", "有限责任公司", "股份有限公司")
# Social organisations: (USCC category, name ending); '51' 社会团体, '52' 民办非企业单位.
_SOCIAL_FIELDS = (
    "文化艺术", "志愿服务", "养老服务", "青少年发展", "体育健身", "科技创新", "环境保护",
    "社区服务", "家庭教育", "心理健康",
)  # fmt: skip
_SOCIAL_FORMS = (
    ("1", "协会"),
    ("1", "促进会"),
    ("1", "研究会"),
    ("2", "服务中心"),
    ("2", "培训学校"),
)
_SHOPS = (
    "便利店", "小吃店", "超市", "餐馆", "水果店", "五金店", "理发店", "服装店", "烟酒店", "早餐店",
    "面馆", "烧烤店", "干洗店", "汽车修理部", "家电维修部", "美容院", "茶叶店", "副食店", "粮油店",
    "文具店",
)  # fmt: skip

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_PAIRS = tuple(a + b for a in _USCC_ALPHABET for b in _USCC_ALPHABET)

_BIRTH_FIRST = dt.date(1960, 1, 1)
_BIRTH_DAYS = (dt.date(2004, 12, 31) - _BIRTH_FIRST).days + 1
_BIRTH_FIRST_ORDINAL = _BIRTH_FIRST.toordinal()

# One block of 20 consecutive subjects: 16 organisations, 2 individual businesses, 2 natural
# persons, in a seed-dependent order; a subject's rank among its kind follows from its index.
_BLOCK = ("O",) * 16 + ("I",) * 2 + ("N",) * 2
_PER_BLOCK = {"O": 16, "I": 2, "N": 2}

_MASK64 = (1 << 64) - 1


def _mix64(x: int) -> int:
    """SplitMix64 finaliser: a well-spread 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


class _Permutation:
    """A keyed bijection of ``range(size)``: what keeps generated names and codes unique."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.size = size
        self.bits = max(2, (size - 1).bit_length())
        self.mask = (1 << self.bits) - 1
        self.shift = self.bits // 2 + 1
        self.rounds = tuple((rng.getrandbits(self.bits) | 1, rng.getrandbits(self.bits)) for _ in range(3))

    def __call__(self, x: int) -> int:
        # Each round (odd multiply, add, xorshift) is a bijection of the power-of-two range;
        # walking the cycle until it lands below ``size`` restricts it to a bijection of
        # range(size), in under two passes on average.
        mask, shift, rounds, size = self.mask, self.shift, self.rounds, self.size
        while True:
            for mul, add in rounds:
                x = (x * mul + add) & mask
                x ^= x >> shift
            if x < size:
                return x


def _person_name(index: int) -> str:
    surname, given = divmod(index, len(_GIVEN_NAMES))
    return _ALL_SURNAMES[surname] + _GIVEN_NAMES[given]


_PERSON_NAMES = len(_ALL_SURNAMES) * len(_GIVEN_NAMES)
_ENTERPRISE_NAMES = len(_TRADE_NAMES) ** 2 * len(_INDUSTRIES) * len(_COMPANY_FORMS)
_SOCIAL_NAMES = len(_TRADE_NAMES) ** 2 * len(_SOCIAL_FIELDS) * len(_SOCIAL_FORMS)
_SHOP_NAMES = _PERSON_NAMES * len(_SHOPS)
_ORG_BODIES = 30 * 31**7  # organisation-code bodies whose first character is not '0'
_REG_SERIALS = 4 * 10**7  # registration-number digits 7–14: type 6–9 (个体) + 7-digit serial


def _ric_area(city_index: int, year: int) -> str:
    for first_year, code in _RIC_AREAS[city_index]:
        if year >= first_year:
            return code
    raise AssertionError("unreachable: the last entry starts at year 0")


# Internal subject record: (kind, name, uscc, reg_no, id_number, legal_rep, legal_rep_id, city#)
_SubjectTuple = tuple[str, str, str | None, str | None, str | None, str | None, str | None, int]


class _Subjects:
    """Subject ``i`` for one seed, as a pure function of ``i``."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(f"xinyong-demo:{seed}:subjects")
        block = list(_BLOCK)
        rng.shuffle(block)
        ranks: list[int] = []
        seen = {"O": 0, "I": 0, "N": 0}
        for kind in block:
            ranks.append(seen[kind])
            seen[kind] += 1
        self.block = tuple(block)
        self.ranks = tuple(ranks)
        self.key = rng.getrandbits(64)
        self.enterprise = _Permutation(_ENTERPRISE_NAMES, rng)
        self.social = _Permutation(_SOCIAL_NAMES, rng)
        self.person = _Permutation(_PERSON_NAMES, rng)
        self.shop = _Permutation(_SHOP_NAMES, rng)
        self.org_body = _Permutation(_ORG_BODIES, rng)
        self.birth = _Permutation(_BIRTH_DAYS * 1000, rng)
        self.reg = _Permutation(_REG_SERIALS, rng)

    def _org_code(self, i: int) -> str:
        x = self.org_body(i % _ORG_BODIES)
        x, a = divmod(x, 961)
        x, b = divmod(x, 961)
        x, c = divmod(x, 961)
        x, d = divmod(x, 31)
        return make_org_code(
            _USCC_ALPHABET[1 + x] + _USCC_PAIRS[a] + _USCC_PAIRS[b] + _USCC_PAIRS[c]
            + _USCC_ALPHABET[d]
        )  # fmt: skip

    def _ric(self, i: int, city: int) -> str:
        day, seq = divmod(self.birth(i % (_BIRTH_DAYS * 1000)), 1000)
        birth = dt.date.fromordinal(_BIRTH_FIRST_ORDINAL + day)
        return make_ric(_ric_area(city, birth.year), birth, seq)

    def get(self, i: int) -> _SubjectTuple:
        block_no, slot = divmod(i, len(_BLOCK))
        kind = self.block[slot]
        rank = block_no * _PER_BLOCK[kind] + self.ranks[slot]
        h = _mix64(self.key ^ i)
        city_no = _CITY_WHEEL[h % len(_CITY_WHEEL)]
        h //= len(_CITY_WHEEL)
        city = CITIES[city_no]
        if kind == "N":
            lap, index = divmod(rank, _PERSON_NAMES)
            name = _person_name(self.person(index)) + (f"（{lap + 1}）" if lap else "")
            return (KIND_PERSON, name, None, None, self._ric(i, city_no), None, None, city_no)
        if kind == "I":
            lap, index = divmod(rank, _SHOP_NAMES)
            person, shop = divmod(self.shop(index), len(_SHOPS))
            operator_name = _person_name(person)
            district = _DISTRICTS[city_no]
            name = f"{city.name}{district}{operator_name}{_SHOPS[shop]}"
            if lap:
                name += f"{lap + 1}号店"
            rep_id = self._ric(i, city_no)
            if rank % 2 == 0:
                uscc = make_uscc(f"92{city.area_code}{self._org_code(i)}")
                return (KIND_INDIVIDUAL_BUSINESS, name, uscc, None, None, operator_name, rep_id,
                        city_no)  # fmt: skip
            kind_digit, serial = divmod(self.reg(i % _REG_SERIALS), 10**7)
            reg_no = make_reg_no(f"{city.area_code}{6 + kind_digit}{serial:07d}")
            return (KIND_INDIVIDUAL_BUSINESS, name, None, reg_no, None, operator_name, rep_id,
                    city_no)  # fmt: skip
        # Organisations: about one in 16 is a social organisation.
        h, social = divmod(h, 16)
        legal_rep = _person_name(h % _PERSON_NAMES)
        if social == 0:
            lap, index = divmod(rank, _SOCIAL_NAMES)
            index, form = divmod(self.social(index), len(_SOCIAL_FORMS))
            index, field = divmod(index, len(_SOCIAL_FIELDS))
            first, second = divmod(index, len(_TRADE_NAMES))
            category, ending = _SOCIAL_FORMS[form]
            name = f"{city.name}{_TRADE_NAMES[first]}{_TRADE_NAMES[second]}{_SOCIAL_FIELDS[field]}{ending}"
            if lap:
                name += f"第{lap + 1}分会"
            uscc = make_uscc(f"5{category}{city.area_code}{self._org_code(i)}")
        else:
            lap, index = divmod(rank, _ENTERPRISE_NAMES)
            index, form = divmod(self.enterprise(index), len(_COMPANY_FORMS))
            index, industry = divmod(index, len(_INDUSTRIES))
            first, second = divmod(index, len(_TRADE_NAMES))
            name = (
                f"{city.name}{_TRADE_NAMES[first]}{_TRADE_NAMES[second]}{_INDUSTRIES[industry]}{_COMPANY_FORMS[form]}"
            )
            if lap:
                name += f"第{lap + 1}分公司"
            uscc = make_uscc(f"91{city.area_code}{self._org_code(i)}")
        return (KIND_ORGANISATION, name, uscc, None, None, legal_rep, self._ric(i, city_no),
                city_no)  # fmt: skip


# Provinces of the cities' area codes, for the names enterprises had before a rename
_PROVINCES = {"13": "河北", "44": "广东", "41": "河南", "22": "吉林", "61": "陕西", "33": "浙江", "37": "山东"}
RENAMED_ONE_IN = 25  # enterprises renamed within the window: their earlier records carry the old name


def _former_name(subjects: _Subjects, i: int, s: _SubjectTuple, window: int = 1) -> tuple[str, int] | None:
    """For about one enterprise in ``RENAMED_ONE_IN``: the name it had (registered under the
    province, 河北石家庄华美商贸有限公司, before it became 石家庄市华美商贸有限公司) and the first day
    number of a window of ``window`` days on which it bears its current name — records decided
    before carry the old one, as a renamed company's do. None for the others."""
    kind, name, uscc = s[0], s[1], s[2]
    if kind != KIND_ORGANISATION or not uscc or not uscc.startswith("91"):
        return None
    h = _mix64(subjects.key ^ (i * 7919 + 1))
    if h % RENAMED_ONE_IN:
        return None
    city = CITIES[s[7]]
    former = _PROVINCES[city.area_code[:2]] + city.name.removesuffix("市") + name[len(city.name):]
    return former, int(window * (0.3 + 0.5 * (h // RENAMED_ONE_IN % 1000) / 1000))


def _subject_cells(s: _SubjectTuple) -> dict[str, str]:
    """The 13 subject columns shared by penalty and licence files."""
    kind, name, uscc, reg_no, id_number, legal_rep, legal_rep_id, _city = s
    if kind == KIND_PERSON:
        code1, code2, rep, rep_type, rep_id, id_type, id_no = (
            "",
            "",
            "",
            "",
            "",
            "身份证",
            id_number,
        )
    else:
        code1 = uscc or PLACEHOLDER_USCC
        code2 = reg_no or ""
        rep, rep_type, rep_id, id_type, id_no = legal_rep, "身份证", legal_rep_id, "", ""
    return {
        "行政相对人名称": name,
        "行政相对人类别": kind,
        "行政相对人代码_1(统一社会信用代码)": code1,
        "行政相对人代码_2(工商注册号)": code2,
        "行政相对人代码_3(组织机构代码)": "",
        "行政相对人代码_4(税务登记号)": "",
        "行政相对人代码_5(事业单位证书号)": "",
        "行政相对人代码_6(社会组织登记证号)": "",
        "法定代表人": rep or "",
        "法定代表人证件类型": rep_type,
        "法定代表人证件号码": rep_id or "",
        "证件类型": id_type,
        "证件号码": id_no or "",
    }


def subjects(n: int, seed: int = 2026) -> Iterator[DemoSubject]:
    """Subjects ``0 .. n-1`` for ``seed``: ~80% organisations, ~10% individual businesses
    (half with a '92' USCC, half without), ~10% natural persons; unique names and codes."""
    factory = _Subjects(seed)
    for i in range(n):
        s = factory.get(i)
        kind, name, uscc, reg_no, id_number, legal_rep, legal_rep_id, city = s
        renamed = _former_name(factory, i, s)
        yield DemoSubject(kind, name, uscc, reg_no, id_number, legal_rep, legal_rep_id,
                          CITIES[city], renamed[0] if renamed else None)  # fmt: skip


# --------------------------------------------------------------------------- shared row context


def _yuan_to_wan(yuan: int) -> str:
    """Yuan as 万元 text without trailing zeros: 441000 -> '44.1', 5000 -> '0.5'."""
    whole, rest = divmod(yuan, 10000)
    if not rest:
        return str(whole)
    return f"{whole}.{rest:04d}".rstrip("0")


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class _Authority:
    __slots__ = ("licence_prefix", "name", "penalty_prefix", "uscc")

    def __init__(self, dept: Department, penalty_word: str, licence_word: str) -> None:
        self.name = dept.name
        self.uscc = dept.uscc
        short = dept.city.name.removesuffix("市")
        self.penalty_prefix = f"{short}{penalty_word}"
        self.licence_prefix = f"{short}{licence_word}"


class _Context:
    """What penalty and licence streams share: subjects, authorities and a date window."""

    window_days = 4 * 365 + 1  # decisions fall in the 4 years up to and including today
    lookback = 120  # violations happen up to this many days before their decision

    def __init__(self, seed: int, today: dt.date, stream: str) -> None:
        self.subjects = _Subjects(seed)
        self.rng = random.Random(f"xinyong-demo:{seed}:{stream}:{today.isoformat()}")
        depts = departments(seed)
        per_city = len(_DEPT_KINDS)
        self.authorities = [
            [_Authority(depts[c * per_city + k], _DEPT_KINDS[k][1], _DEPT_KINDS[k][2]) for k in range(per_city)]
            for c in range(len(CITIES))
        ]
        first = today - dt.timedelta(days=self.window_days - 1)
        self.days = [first + dt.timedelta(days=n) for n in range(self.window_days)]
        self.day_text = [d.strftime("%Y/%m/%d") for d in self.days]
        # Dates as 违法事实 writes them, from ``lookback`` days before the window on:
        # violation ``k`` days before decision day ``n`` is ``fact_day_text[n + lookback - k]``.
        self.fact_day_text = [
            f"{d.year}年{d.month}月{d.day}日"
            for d in (first + dt.timedelta(days=n - self.lookback) for n in range(
                self.lookback + self.window_days))
        ]  # fmt: skip
        self.counters: dict[tuple[str, int], int] = {}

    def next_number(self, prefix: str, year: int) -> str:
        key = (prefix, year)
        n = self.counters.get(key, 0) + 1
        self.counters[key] = n
        return f"{prefix}〔{year}〕{n}号"


def _count_for(rng: random.Random, per_subject: float) -> int:
    whole = int(per_subject)
    return whole + (rng.random() < per_subject - whole)


# --------------------------------------------------------------------------- penalties

_MINOR = "minor"
_GENERAL = "general"
_SERIOUS = "serious"


@dataclass(frozen=True)
class _Tier:
    cls: str
    weight: float
    categories: str
    content: str
    fine: tuple[int, int] | None = None  # yuan
    confiscate: bool = False
    revoke: str | None = None  # licence suspended or revoked
    term_years: int = 0  # 处罚有效期 in years after the decision; 0 means open-ended


@dataclass(frozen=True)
class _Violation:
    dept: str
    kinds: str  # which subjects it applies to: O organisations, I individual businesses, N persons
    weight: float
    type: str
    basis: str
    facts: tuple[str, ...]
    items: tuple[str, ...]
    tiers: tuple[_Tier, ...]
    value: tuple[int, int] = (2_000, 80_000)  # {v}: goods value, fees, investment… in yuan
    count: tuple[int, int] = (2, 60)  # {n}


_FOOD_ITEMS = (
    "牛奶",
    "面包",
    "饼干",
    "火腿肠",
    "速冻水饺",
    "饮料",
    "方便面",
    "酸奶",
    "月饼",
    "调味品",
)
_SITES = ("住宅楼", "厂房", "商业综合体", "仓库", "办公楼")

_VIOLATIONS: tuple[_Violation, ...] = (
    _Violation(
        "市场监督管理局", "OI", 6, "经营超过保质期的食品",
        "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项",
        (
            "经查，当事人于{d}在其经营场所销售超过保质期的{item}共{n}件，货值金额{v}元，违法所得{g}元。",
            "{d}，执法人员检查发现当事人货架上摆放的{item}已超过保质期，共计{n}件，货值金额{v}元。",
        ),
        _FOOD_ITEMS,
        (
            _Tier(_GENERAL, 0.82, "没收违法所得;没收非法财物;罚款",
                  "没收违法所得和超过保质期的食品，并处罚款", (50_000, 100_000), confiscate=True),
            _Tier(_SERIOUS, 0.12, "没收违法所得;没收非法财物;罚款;吊销许可证件",
                  "没收违法所得和违法经营的食品，并处货值金额十五倍以上三十倍以下罚款，吊销食品经营许可证",
                  (150_000, 900_000), confiscate=True, revoke="食品经营许可证"),
            _Tier(_SERIOUS, 0.06, "没收违法所得;没收非法财物;罚款;吊销许可证件;限制从业",
                  "没收违法所得和违法经营的食品，并处罚款，吊销食品经营许可证；法定代表人自处罚决定作出之日起"
                  "五年内不得从事食品生产经营管理工作",
                  (150_000, 900_000), confiscate=True, revoke="食品经营许可证", term_years=5),
        ),
    ),
    _Violation(
        "市场监督管理局", "OIN", 5, "未取得食品经营许可从事食品经营活动",
        "《中华人民共和国食品安全法》第一百二十二条第一款",
        (
            "经查，当事人自{d}起在未取得食品经营许可证的情况下从事{item}经营活动，违法所得{g}元。",
            "{d}，执法人员检查发现当事人未取得食品经营许可擅自销售{item}，现场查获{n}件，货值金额{v}元。",
        ),
        ("熟食", "散装白酒", "糕点", "盒饭", "奶茶", "卤味"),
        (
            _Tier(_GENERAL, 0.92, "没收违法所得;没收非法财物;罚款",
                  "没收违法所得和违法经营的食品，并处五万元以上十万元以下罚款", (50_000, 100_000),
                  confiscate=True),
            _Tier(_SERIOUS, 0.08, "没收违法所得;没收非法财物;罚款",
                  "没收违法所得和违法经营的食品，并处货值金额十倍以上二十倍以下罚款",
                  (1_000_000, 2_000_000), confiscate=True),
        ),
    ),
    _Violation(
        "市场监督管理局", "OI", 4, "未按规定查验供货者许可证和食品合格证明文件",
        "《中华人民共和国食品安全法》第一百二十六条第一款",
        (
            "经查，当事人采购{item}时未查验供货者的许可证和产品合格证明文件，未建立进货查验记录。",
            "{d}，执法人员检查发现当事人无法提供所售{item}的进货查验记录。",
        ),
        _FOOD_ITEMS,
        (
            _Tier(_MINOR, 0.5, "警告", "责令改正，给予警告"),
            _Tier(_GENERAL, 0.42, "罚款", "责令改正，拒不改正，处以罚款", (5_000, 50_000)),
            _Tier(_SERIOUS, 0.08, "罚款;责令停产停业", "处以罚款，责令停产停业", (20_000, 50_000)),
        ),
    ),
    _Violation(
        "市场监督管理局", "O", 3, "发布虚假广告", "《中华人民共和国广告法》第五十五条第一款",
        (
            "经查，当事人自{d}起通过微信公众号发布含有虚假内容的{item}广告，广告费用{v}元。",
            "经查，当事人在其经营场所及网站发布的{item}广告中使用无法证实的功效数据，广告费用{v}元。",
        ),
        ("保健食品", "减肥茶", "净水器", "培训课程", "美容服务", "理财产品"),
        (
            _Tier(_GENERAL, 0.9, "罚款",
                  "责令停止发布广告，责令在相应范围内消除影响，处广告费用三倍以上五倍以下罚款",
                  (20_000, 300_000)),
            _Tier(_SERIOUS, 0.1, "罚款;吊销许可证件",
                  "处广告费用五倍以上十倍以下罚款，吊销营业执照", (200_000, 1_000_000),
                  revoke="营业执照"),
        ),
    ),
    _Violation(
        "市场监督管理局", "OI", 4, "销售不符合保障人体健康和人身、财产安全的国家标准的产品",
        "《中华人民共和国产品质量法》第四十九条",
        (
            "经抽样检验，当事人销售的{item}不符合强制性国家标准，共销售{n}件，货值金额{v}元，违法所得{g}元。",
            "{d}，执法人员抽检发现当事人销售的{item}检验结论为不合格，货值金额{v}元。",
        ),
        ("电动自行车充电器", "儿童玩具", "插座", "电热水壶", "安全帽", "燃气灶"),
        (
            _Tier(_GENERAL, 0.9, "没收违法所得;没收非法财物;罚款",
                  "责令停止销售，没收违法销售的产品，并处违法销售产品货值金额等值以上三倍以下罚款，"
                  "没收违法所得", (5_000, 300_000), confiscate=True),
            _Tier(_SERIOUS, 0.1, "没收违法所得;没收非法财物;罚款;吊销许可证件",
                  "没收违法销售的产品和违法所得，并处罚款；情节严重，吊销营业执照",
                  (50_000, 500_000), confiscate=True, revoke="营业执照"),
        ),
    ),
    _Violation(
        "市场监督管理局", "O", 2, "不执行政府指导价", "《价格违法行为行政处罚规定》第九条",
        ("经查，当事人在提供{item}时超出政府指导价标准收费，多收价款{g}元。",),
        ("停车服务", "管道天然气", "供水", "景区门票", "医疗服务"),
        (
            _Tier(_GENERAL, 0.9, "没收违法所得;罚款",
                  "责令改正，没收违法所得，并处违法所得五倍以下罚款", (10_000, 300_000),
                  confiscate=True),
            _Tier(_SERIOUS, 0.1, "罚款;责令停产停业",
                  "责令改正，处五十万元以上二百万元以下罚款，责令停业整顿", (500_000, 2_000_000)),
        ),
    ),
    _Violation(
        "市场监督管理局", "OI", 3, "不按规定明码标价", "《中华人民共和国价格法》第四十二条",
        ("{d}，执法人员检查发现当事人经营场所内{n}种{item}未按规定明码标价。",),
        ("商品", "服务项目"),
        (_Tier(_GENERAL, 1, "罚款", "责令改正，处以罚款", (500, 5_000)),),
    ),
    _Violation(
        "市场监督管理局", "O", 2, "使用未经定期检验的特种设备",
        "《中华人民共和国特种设备安全法》第八十四条第（一）项",
        ("经查，当事人使用的{n}台{item}超过检验有效期未申请定期检验，仍继续使用。",),
        ("电梯", "叉车", "压力容器", "锅炉"),
        (_Tier(_GENERAL, 1, "罚款", "责令停止使用有关特种设备，处三万元以上三十万元以下罚款",
               (30_000, 300_000)),),
        count=(1, 6),
    ),
    _Violation(
        "生态环境局", "O", 3, "超标排放大气污染物",
        "《中华人民共和国大气污染防治法》第九十九条第（二）项",
        ("{d}，执法人员对当事人废气排放口进行监督性监测，{item}排放浓度超过国家排放标准{n}%。",),
        ("颗粒物", "二氧化硫", "氮氧化物", "挥发性有机物"),
        (
            _Tier(_GENERAL, 0.85, "罚款", "责令改正，处十万元以上一百万元以下罚款", (100_000, 500_000)),
            _Tier(_SERIOUS, 0.1, "罚款;责令停产停业", "责令停产整治，并处罚款", (500_000, 1_000_000)),
            _Tier(_SERIOUS, 0.05, "罚款;责令关闭",
                  "报经有批准权的人民政府批准，责令关闭，并处罚款", (500_000, 1_000_000)),
        ),
        count=(10, 200),
    ),
    _Violation(
        "生态环境局", "O", 2, "未取得排污许可证排放污染物",
        "《排污许可管理条例》第三十三条第（一）项",
        ("经查，当事人自{d}起在未取得排污许可证的情况下排放{item}。",),
        ("工业废水", "工业废气", "含油废水"),
        (
            _Tier(_GENERAL, 0.9, "罚款", "责令改正，处二十万元以上一百万元以下罚款", (200_000, 500_000)),
            _Tier(_SERIOUS, 0.1, "罚款;责令关闭",
                  "报经有批准权的人民政府批准，责令关闭，并处罚款", (500_000, 1_000_000)),
        ),
    ),
    _Violation(
        "生态环境局", "O", 2, "未依法报批建设项目环境影响评价文件擅自开工建设",
        "《中华人民共和国环境影响评价法》第三十一条第一款",
        ("经查，当事人{item}环境影响报告表未经批准，于{d}擅自开工建设，项目总投资{v}元。",),
        ("厂房扩建项目", "生产线技术改造项目", "仓储项目"),
        (_Tier(_GENERAL, 1, "罚款", "责令停止建设，处建设项目总投资额百分之一以上百分之五以下罚款",
               (10_000, 400_000)),),
        value=(1_000_000, 8_000_000),
    ),
    _Violation(
        "生态环境局", "O", 2, "未按照国家有关规定贮存危险废物",
        "《中华人民共和国固体废物污染环境防治法》第一百一十二条第一款第（六）项",
        ("{d}，执法人员检查发现当事人将{item}约{n}吨露天堆放，未按照国家有关规定贮存危险废物。",),
        ("废矿物油", "废活性炭", "废油漆桶", "废酸"),
        (
            _Tier(_GENERAL, 0.9, "罚款", "责令改正，处十万元以上一百万元以下罚款", (100_000, 400_000)),
            _Tier(_SERIOUS, 0.1, "罚款;责令停产停业", "责令停业整治，并处罚款", (400_000, 1_000_000)),
        ),
        count=(1, 30),
    ),
    _Violation(
        "交通运输局", "OIN", 5, "未经许可擅自从事道路运输经营",
        "《中华人民共和国道路运输条例》第六十三条",
        ("{d}，执法人员检查发现当事人未取得道路运输经营许可，擅自从事{item}经营，违法所得{g}元。",),
        ("道路旅客运输", "道路货物运输", "网络预约出租汽车"),
        (_Tier(_GENERAL, 1, "没收违法所得;罚款", "责令停止经营，没收违法所得，并处罚款",
               (10_000, 100_000), confiscate=True),),
    ),
    _Violation(
        "交通运输局", "OIN", 4, "车辆违法超限运输", "《公路安全保护条例》第六十四条",
        ("{d}，当事人驾驶的货运车辆经公路超限检测站检测，车货总质量超过限定标准{n}%。",),
        ("货物",),
        (_Tier(_GENERAL, 1, "罚款", "责令改正，处以罚款", (500, 30_000)),),
        count=(5, 80),
    ),
    _Violation(
        "应急管理局", "O", 4, "未按规定对从业人员进行安全生产教育和培训",
        "《中华人民共和国安全生产法》第九十七条第（三）项",
        ("经查，当事人{n}名{item}未经安全生产教育和培训即上岗作业。",),
        ("一线作业人员", "新入职员工", "特种作业人员"),
        (
            _Tier(_GENERAL, 0.85, "罚款", "责令限期改正，处十万元以下罚款", (10_000, 100_000)),
            _Tier(_SERIOUS, 0.15, "罚款;责令停产停业",
                  "逾期未改正，责令停产停业整顿，并处十万元以上二十万元以下罚款",
                  (100_000, 200_000)),
        ),
        count=(2, 40),
    ),
    _Violation(
        "应急管理局", "O", 3, "未为从业人员提供符合国家标准的劳动防护用品",
        "《中华人民共和国安全生产法》第九十九条第（五）项",
        ("{d}，执法人员检查发现当事人未为{n}名作业人员配备{item}。",),
        ("防尘口罩", "安全帽", "防护手套", "防毒面具"),
        (_Tier(_GENERAL, 1, "罚款", "责令限期改正，处五万元以下罚款", (5_000, 50_000)),),
    ),
    _Violation(
        "应急管理局", "OI", 2, "未取得危险化学品经营许可证经营危险化学品",
        "《危险化学品安全管理条例》第七十七条第三款",
        ("经查，当事人在未取得危险化学品经营许可证的情况下销售{item}，违法所得{g}元。",),
        ("油漆稀释剂", "液化石油气", "工业酒精", "硫酸"),
        (_Tier(_GENERAL, 1, "没收违法所得;没收非法财物;罚款",
               "责令停止经营活动，没收违法经营的危险化学品以及违法所得，并处十万元以上二十万元以下罚款",
               (100_000, 200_000), confiscate=True),),
    ),
    _Violation(
        "应急管理局", "N", 3, "生产经营单位主要负责人未履行安全生产管理职责",
        "《中华人民共和国安全生产法》第九十四条",
        ("经调查，当事人作为{item}主要负责人，未履行安全生产管理职责，导致{d}发生一起一般生产安全事故。",),
        ("某五金加工厂", "某物流仓库", "某建筑工地", "某食品加工厂"),
        (
            _Tier(_GENERAL, 0.6, "罚款", "处上一年年收入百分之四十的罚款", (20_000, 150_000)),
            _Tier(_SERIOUS, 0.4, "罚款;限制从业",
                  "处上一年年收入百分之四十的罚款；自受处罚之日起五年内不得担任任何生产经营单位的主要负责人",
                  (30_000, 200_000), term_years=5),
        ),
    ),
    _Violation(
        "住房和城乡建设局", "O", 3, "未取得施工许可证擅自施工",
        "《建设工程质量管理条例》第五十七条",
        ("经查，当事人建设的{item}项目未取得建筑工程施工许可证，于{d}擅自开工建设，合同价款{v}元。",),
        _SITES,
        (_Tier(_GENERAL, 1, "罚款",
               "责令停止施工，限期改正，处工程合同价款百分之一以上百分之二以下罚款",
               (10_000, 400_000)),),
        value=(1_000_000, 20_000_000),
    ),
    _Violation(
        "住房和城乡建设局", "O", 2, "施工单位在施工中偷工减料",
        "《建设工程质量管理条例》第六十四条",
        ("经查，当事人在承建的{item}项目施工中偷工减料，使用不合格的建筑材料、建筑构配件。",),
        _SITES,
        (
            _Tier(_GENERAL, 0.8, "罚款",
                  "责令改正，处工程合同价款百分之二以上百分之四以下罚款", (50_000, 400_000)),
            _Tier(_SERIOUS, 0.1, "罚款;责令停产停业;降低资质等级",
                  "处以罚款，责令停业整顿，降低资质等级", (100_000, 500_000)),
            _Tier(_SERIOUS, 0.1, "罚款;吊销许可证件", "处以罚款，吊销资质证书",
                  (100_000, 500_000), revoke="建筑业企业资质证书"),
        ),
    ),
    _Violation(
        "卫生健康委员会", "OI", 4, "未按照规定对公共场所进行卫生检测",
        "《公共场所卫生管理条例实施细则》第三十六条",
        ("{d}，卫生监督员检查发现当事人经营的{item}未按照规定对公共场所的空气、微小气候、水质进行卫生检测。",),
        ("宾馆", "理发店", "游泳馆", "足浴店", "美容院"),
        (
            _Tier(_MINOR, 0.6, "警告", "责令限期改正，给予警告"),
            _Tier(_GENERAL, 0.35, "警告;罚款", "责令限期改正，给予警告，并处罚款", (500, 2_000)),
            _Tier(_SERIOUS, 0.05, "罚款;吊销许可证件", "逾期不改正，处以罚款，吊销卫生许可证",
                  (2_000, 20_000), revoke="公共场所卫生许可证"),
        ),
    ),
    _Violation(
        "卫生健康委员会", "N", 2, "未取得医师执业证书擅自开展诊疗活动",
        "《中华人民共和国医师法》第五十九条",
        ("经查，当事人未取得医师资格，自{d}起在{item}内擅自开展诊疗活动，违法所得{g}元。",),
        ("出租屋", "自家住宅", "商铺"),
        (_Tier(_GENERAL, 1, "没收违法所得;没收非法财物;罚款",
               "责令停止非法执业活动，没收违法所得和药品、医疗器械，并处违法所得二倍以上十倍以下罚款",
               (10_000, 100_000), confiscate=True),),
    ),
    _Violation(
        "卫生健康委员会", "N", 3, "医师未按照规定书写和保管病历资料",
        "《中华人民共和国医师法》第五十五条",
        ("经查，当事人在执业活动中未按照规定如实填写、妥善保管{n}份{item}。",),
        ("门诊病历", "住院病历"),
        (
            _Tier(_MINOR, 0.7, "警告", "责令改正，给予警告"),
            _Tier(_SERIOUS, 0.2, "警告;限制从业", "给予警告，责令暂停执业活动六个月", term_years=1),
            _Tier(_SERIOUS, 0.1, "吊销许可证件", "吊销医师执业证书", revoke="医师执业证书"),
        ),
        count=(2, 30),
    ),
    _Violation(
        "卫生健康委员会", "O", 2, "未按照规定组织职业健康检查",
        "《中华人民共和国职业病防治法》第七十一条第（四）项",
        ("经查，当事人未按照规定组织{n}名接触{item}的劳动者进行职业健康检查。",),
        ("粉尘", "噪声", "有机溶剂"),
        (
            _Tier(_MINOR, 0.5, "警告", "责令限期改正，给予警告"),
            _Tier(_GENERAL, 0.5, "警告;罚款", "给予警告，逾期不改正，处五万元以上二十万元以下罚款",
                  (50_000, 200_000)),
        ),
    ),
    _Violation(
        "税务局", "OIN", 5, "未按照规定期限办理纳税申报",
        "《中华人民共和国税收征收管理法》第六十二条",
        ("经查，当事人未按照规定期限办理{item}纳税申报和报送纳税资料。",),
        ("增值税", "个人所得税", "城市维护建设税", "印花税"),
        (_Tier(_GENERAL, 1, "罚款", "责令限期改正，处以罚款", (200, 10_000)),),
    ),
    _Violation(
        "税务局", "OIN", 2, "偷税", "《中华人民共和国税收征收管理法》第六十三条第一款",
        ("经查，当事人通过{item}的方式进行虚假纳税申报，少缴税款{v}元。",),
        ("隐匿收入", "虚列成本", "少列收入", "取得虚开发票入账"),
        (
            _Tier(_GENERAL, 0.7, "罚款", "追缴少缴的税款、滞纳金，并处少缴税款百分之五十的罚款",
                  (10_000, 500_000)),
            _Tier(_SERIOUS, 0.3, "罚款",
                  "追缴少缴的税款、滞纳金，并处少缴税款一倍以上五倍以下的罚款",
                  (1_000_000, 5_000_000)),
        ),
        value=(20_000, 2_000_000),
    ),
    _Violation(
        "税务局", "OI", 3, "应当开具而未开具发票", "《中华人民共和国发票管理办法》第三十五条",
        ("经查，当事人{d}销售{item}时应当开具而未开具发票，涉及金额{v}元。",),
        ("商品", "服务", "货物"),
        (_Tier(_GENERAL, 1, "罚款", "责令改正，处以罚款", (200, 10_000)),),
    ),
    _Violation(
        "统计局", "O", 3, "经催报后仍未按时提供统计资料",
        "《中华人民共和国统计法》第四十一条第一款第（一）项",
        ("经查，当事人经催报后仍未按时报送{item}。",),
        ("规模以上工业企业月度统计报表", "劳动工资统计报表", "服务业企业季度统计报表"),
        (
            _Tier(_MINOR, 0.5, "警告", "责令改正，给予警告"),
            _Tier(_MINOR, 0.2, "通报批评", "责令改正，予以通报批评"),
            _Tier(_GENERAL, 0.3, "警告;罚款", "责令改正，给予警告，并处罚款", (5_000, 50_000)),
        ),
    ),
    _Violation(
        "统计局", "O", 2, "提供不真实的统计资料",
        "《中华人民共和国统计法》第四十一条第一款第（二）项",
        ("经查，当事人报送的{item}中营业收入数据与财务账册不符，虚报{v}元。",),
        ("规模以上工业企业年度统计报表", "服务业企业年度统计报表"),
        (
            _Tier(_MINOR, 0.3, "警告;通报批评", "责令改正，给予警告，予以通报批评"),
            _Tier(_GENERAL, 0.7, "警告;罚款", "责令改正，给予警告，并处罚款", (10_000, 200_000)),
        ),
        value=(100_000, 5_000_000),
    ),
    _Violation(
        "发展和改革局", "O", 1, "实行核准管理的项目未依法办理核准手续开工建设",
        "《企业投资项目核准和备案管理条例》第十八条第一款",
        ("经查，当事人投资建设的{item}属于实行核准管理的项目，未依法办理核准手续，于{d}擅自开工建设，"
         "项目总投资{v}元。",),
        ("分布式风电项目", "燃气热电联产项目", "内河码头项目"),
        (_Tier(_GENERAL, 1, "罚款", "责令停止建设，处项目总投资额千分之一以上千分之五以下罚款",
               (10_000, 500_000)),),
        value=(10_000_000, 100_000_000),
    ),
)  # fmt: skip

_REMARKS = ("当事人已履行完毕", "当事人已主动改正", "当事人已缴纳罚款")


def _weighted(options: Sequence[tuple[float, object]]) -> tuple[tuple[float, ...], tuple]:
    """Cumulative weights (normalised to 1) and the options, for ``bisect`` draws."""
    total = sum(w for w, _ in options)
    cumulative, acc = [], 0.0
    for w, _ in options:
        acc += w / total
        cumulative.append(acc)
    cumulative[-1] = 1.0
    return tuple(cumulative), tuple(o for _, o in options)


_KIND_LETTER = {KIND_ORGANISATION: "O", KIND_INDIVIDUAL_BUSINESS: "I", KIND_PERSON: "N"}


class _PreparedViolation:
    """A violation with its tiers ready for fast draws."""

    __slots__ = ("basis", "count", "dept", "facts", "items", "tier_cum", "tiers", "type", "value")

    def __init__(self, v: _Violation) -> None:
        self.dept = _DEPT_INDEX[v.dept]
        self.type = v.type
        self.basis = v.basis
        self.facts = v.facts
        self.items = v.items
        self.value = v.value
        self.count = v.count
        self.tier_cum, self.tiers = _weighted([(t.weight, t) for t in v.tiers])


def _violation_table() -> dict[str, tuple[tuple[float, ...], tuple]]:
    table = {}
    for letter in "OIN":
        options = [(v.weight, _PreparedViolation(v)) for v in _VIOLATIONS if letter in v.kinds]
        table[letter] = _weighted(options)
    return table


_PENALTY_VIOLATIONS = _violation_table()


def _revoked_licence(name: str, cells: Mapping[str, str], area: str, year: int, n: int) -> str:
    """暂扣或吊销证照名称及编号 for a revoked licence of the subject."""
    if name == "营业执照":
        number = cells["行政相对人代码_2(工商注册号)"] or cells["行政相对人代码_1(统一社会信用代码)"]
    elif name == "食品经营许可证":
        number = f"JY1{area}{n:07d}"
    elif name == "公共场所卫生许可证":
        number = f"卫公字〔{year - 2}〕第{n % 1_000_000:06d}号"
    elif name == "医师执业证书":
        number = f"1{area}{n:08d}"
    else:  # 建筑业企业资质证书
        number = f"D2{area[:4]}{n % 100_000:05d}"
    return f"{name}（{number}）"


class _PenaltyStream:
    def __init__(self, seed: int, today: dt.date) -> None:
        self.ctx = _Context(seed, today, "penalties")
        self.end_of_window = today

    def rows(self, i: int, count: int) -> Iterator[dict[str, str]]:
        ctx = self.ctx
        s = ctx.subjects.get(i)
        cells = _subject_cells(s)
        renamed = _former_name(ctx.subjects, i, s, ctx.window_days)
        city = s[7]
        area = CITIES[city].area_code
        authorities = ctx.authorities[city]
        rng = ctx.rng
        random_ = rng.random
        cumulative, violations = _PENALTY_VIOLATIONS[_KIND_LETTER[s[0]]]
        days, day_text, window = ctx.days, ctx.day_text, ctx.window_days
        fact_day_text, lookback = ctx.fact_day_text, ctx.lookback
        counters = ctx.counters
        pick = bisect.bisect
        for _ in range(count):
            v = violations[pick(cumulative, random_())]
            tier = v.tiers[pick(v.tier_cum, random_())]
            day_no = int(random_() * window)
            day = days[day_no]
            year = day.year
            authority = authorities[v.dept]
            key = (authority.penalty_prefix, year)
            number = counters[key] = counters.get(key, 0) + 1
            lo, hi = v.value
            value = lo + int(random_() * (hi - lo)) // 100 * 100
            gain = max(100, value // (2 + int(random_() * 8)) // 100 * 100)
            lo, hi = v.count
            facts = v.facts
            fact = facts[int(random_() * len(facts))].format(
                d=fact_day_text[day_no + lookback - 10 - int(random_() * 110)],
                item=v.items[int(random_() * len(v.items))],
                n=lo + int(random_() * (hi - lo + 1)),
                v=value,
                g=gain,
            )
            if tier.fine is None:
                fine = ""
            else:
                lo, hi = tier.fine
                step = 1000 if lo >= 100_000 else 100
                fine = _yuan_to_wan(lo + int(random_() * (hi - lo) / step) * step)
            confiscated = _yuan_to_wan(gain) if tier.confiscate else ""
            revoked = (
                "" if tier.revoke is None else _revoked_licence(tier.revoke, cells, area, year, int(random_() * 10**7))
            )
            term = tier.term_years
            valid_until = _add_years(day, term).strftime("%Y/%m/%d") if term else _open_ended()
            remark = _REMARKS[int(random_() * 3)] if random_() < 0.03 else ""
            yield {
                **cells,
                **({"行政相对人名称": renamed[0]} if renamed and day_no < renamed[1] else {}),
                "行政处罚决定书文号": f"{authority.penalty_prefix}〔{year}〕{number}号",
                "违法行为类型": v.type,
                "违法事实": fact,
                "处罚依据": v.basis,
                "处罚类别": tier.categories,
                "处罚内容": tier.content,
                "罚款金额（万元）": fine,
                "没收违法所得、没收非法财物的金额（万元）": confiscated,
                "暂扣或吊销证照名称及编号": revoked,
                "处罚决定日期": day_text[day_no],
                "处罚有效期": valid_until,
                "公示截止期": "",
                "处罚机关": authority.name,
                "处罚机关统一社会信用代码": authority.uscc,
                "数据来源单位": authority.name,
                "数据来源单位统一社会信用代码": authority.uscc,
                "备注": remark,
            }


def penalty_rows(
    subjects: int, seed: int = 2026, *, per_subject: float = 1.0, today: dt.date
) -> Iterator[dict[str, str]]:
    """Penalty rows for subjects ``0 .. subjects-1``, about ``per_subject`` each.

    Each subject gets ``int(per_subject)`` rows plus one more with probability equal to the
    fractional part. Decision dates fall in the four years up to ``today`` inclusive.
    """
    stream = _PenaltyStream(seed, today)
    rng = stream.ctx.rng
    for i in range(subjects):
        count = _count_for(rng, per_subject)
        if count:
            yield from stream.rows(i, count)


def bench_penalty_rows(n_rows: int, seed: int = 2026, *, today: dt.date) -> Iterator[dict[str, str]]:
    """Exactly ``n_rows`` penalty rows over about ``n_rows / 2`` subjects (1 to 3 rows each)."""
    stream = _PenaltyStream(seed, today)
    random_ = stream.ctx.rng.random
    remaining = n_rows
    i = 0
    while remaining > 0:
        count = min(remaining, 1 + int(random_() * 3))
        yield from stream.rows(i, count)
        remaining -= count
        i += 1


# --------------------------------------------------------------------------- licences


@dataclass(frozen=True)
class _LicenceType:
    dept: str
    kinds: str
    weight: float
    document: str  # 行政许可决定文书名称
    category: str  # 许可类别
    certificate: str  # 许可证书名称
    number: Callable[[Mapping[str, str], str, int, int], str]  # (cells, area, year, n) -> 许可编号
    contents: tuple[str, ...]  # 许可内容
    years: int | None  # validity; None means open-ended


def _own_code(cells: Mapping[str, str], _area: str, _year: int, _n: int) -> str:
    return cells["行政相对人代码_2(工商注册号)"] or cells["行政相对人代码_1(统一社会信用代码)"]


_LICENCE_TYPES: tuple[_LicenceType, ...] = (
    _LicenceType("市场监督管理局", "OI", 5, "准予食品经营许可决定书", "普通", "食品经营许可证",
                 lambda c, a, y, n: f"JY1{a}{n:07d}",
                 ("准予食品经营许可（预包装食品销售）", "准予食品经营许可（热食类食品制售）",
                  "准予食品经营许可（散装食品销售）"), 5),
    _LicenceType("市场监督管理局", "OI", 4, "准予设立登记通知书", "登记", "营业执照", _own_code,
                 ("准予设立登记",), None),
    _LicenceType("市场监督管理局", "O", 3, "准予变更登记通知书", "登记", "营业执照", _own_code,
                 ("准予变更登记（变更事项：住所）", "准予变更登记（变更事项：法定代表人）",
                  "准予变更登记（变更事项：经营范围）", "准予变更登记（变更事项：注册资本）"),
                 None),
    _LicenceType("市场监督管理局", "O", 2, "特种设备使用登记决定书", "登记", "特种设备使用登记证",
                 lambda c, a, y, n: f"梯11{a[:4]}{n % 100_000:05d}({y % 100:02d})",
                 ("准予特种设备使用登记（乘客电梯）", "准予特种设备使用登记（压力容器）"), None),
    _LicenceType("市场监督管理局", "O", 1, "检验检测机构资质认定决定书", "认可",
                 "检验检测机构资质认定证书", lambda c, a, y, n: f"{y}{a[:2]}{n % 10**6:06d}",
                 ("准予检验检测机构资质认定",), 6),
    _LicenceType("生态环境局", "O", 3, "排污许可证核发决定书", "普通", "排污许可证",
                 lambda c, a, y, n: c["行政相对人代码_1(统一社会信用代码)"] + "001P",
                 ("准予核发排污许可证（重点管理）", "准予核发排污许可证（简化管理）"), 5),
    _LicenceType("生态环境局", "O", 2, "建设项目环境影响报告表审批意见", "其他", "", lambda *_: "",
                 ("同意建设项目环境影响报告表",), None),
    _LicenceType("交通运输局", "OI", 3, "道路运输经营许可决定书", "普通", "道路运输经营许可证",
                 lambda c, a, y, n: f"{a}{n % 10**6:06d}",
                 ("准予道路普通货物运输经营许可", "准予道路旅客运输经营许可"), 4),
    _LicenceType("交通运输局", "O", 1, "巡游出租汽车经营许可决定书", "特许", "出租汽车经营许可证",
                 lambda c, a, y, n: f"{a}{n % 10**5:05d}",
                 ("准予巡游出租汽车经营许可",), 6),
    _LicenceType("交通运输局", "N", 4, "道路运输从业人员从业资格证核发决定书", "认可",
                 "道路运输从业人员从业资格证", lambda c, a, y, n: c["证件号码"],
                 ("准予核发从业资格证（经营性道路货物运输驾驶员）",
                  "准予核发从业资格证（经营性道路旅客运输驾驶员）"), 6),
    _LicenceType("应急管理局", "O", 2, "危险化学品经营许可决定书", "普通", "危险化学品经营许可证",
                 lambda c, a, y, n: f"危化经字〔{y}〕{n % 10**6:06d}",
                 ("准予危险化学品经营许可（不带储存设施）",), 3),
    _LicenceType("应急管理局", "OI", 1, "烟花爆竹经营（零售）许可决定书", "核准",
                 "烟花爆竹经营（零售）许可证", lambda c, a, y, n: f"烟零〔{y}〕{n % 10**5:05d}",
                 ("准予烟花爆竹零售经营",), 2),
    _LicenceType("住房和城乡建设局", "O", 3, "建筑业企业资质许可决定书", "认可",
                 "建筑业企业资质证书",
                 lambda c, a, y, n: f"D2{a[:4]}{n % 100_000:05d}",
                 ("准予建筑工程施工总承包三级资质", "准予市政公用工程施工总承包三级资质"), 5),
    _LicenceType("住房和城乡建设局", "O", 2, "建筑工程施工许可决定书", "普通", "建筑工程施工许可证",
                 lambda c, a, y, n: f"{a}{y}{n % 10**6:06d}",
                 ("准予建筑工程施工许可",), None),
    _LicenceType("住房和城乡建设局", "O", 1, "燃气经营许可决定书", "特许", "燃气经营许可证",
                 lambda c, a, y, n: f"燃经字{a[:2]}{y}{n % 10**4:04d}", ("准予燃气经营许可",), 5),
    _LicenceType("卫生健康委员会", "OI", 3, "公共场所卫生许可决定书", "普通", "公共场所卫生许可证",
                 lambda c, a, y, n: f"卫公字〔{y}〕第{n % 10**6:06d}号",
                 ("准予公共场所卫生许可（住宿场所）", "准予公共场所卫生许可（美容美发场所）",
                  "准予公共场所卫生许可（游泳场所）"), 4),
    _LicenceType("卫生健康委员会", "O", 1, "医疗机构执业许可决定书", "普通", "医疗机构执业许可证",
                 lambda c, a, y, n: f"PDY{n % 10**5:05d}{a}{y % 100:02d}",
                 ("准予医疗机构执业登记（诊所）",), 5),
    _LicenceType("卫生健康委员会", "N", 3, "医师执业注册决定书", "认可", "医师执业证书",
                 lambda c, a, y, n: f"1{a}{n:08d}",
                 ("准予医师执业注册（执业类别：临床，执业范围：内科专业）",
                  "准予医师执业注册（执业类别：口腔，执业范围：口腔专业）"), None),
    _LicenceType("税务局", "OI", 2, "增值税专用发票最高开票限额审批决定书", "其他", "",
                 lambda *_: "", ("准予增值税专用发票最高开票限额十万元",), None),
    _LicenceType("发展和改革局", "O", 1, "企业投资项目核准决定书", "核准", "", lambda *_: "",
                 ("准予核准企业投资项目",), 2),
)  # fmt: skip

_LICENCE_TABLE = {letter: _weighted([(t.weight, t) for t in _LICENCE_TYPES if letter in t.kinds]) for letter in "OIN"}


def licence_rows(
    subjects: int, seed: int = 2026, *, per_subject: float = 1.0, today: dt.date
) -> Iterator[dict[str, str]]:
    """Licence rows for subjects ``0 .. subjects-1``, about ``per_subject`` each.

    当前状态 is '2' (无效) when the licence has expired by ``today`` or, now and then, was
    withdrawn (备注 says so); otherwise '1'.
    """
    ctx = _Context(seed, today, "licences")
    rng = ctx.rng
    random_ = rng.random
    days, day_text, window = ctx.days, ctx.day_text, ctx.window_days
    for i in range(subjects):
        count = _count_for(rng, per_subject)
        if not count:
            continue
        s = ctx.subjects.get(i)
        cells = _subject_cells(s)
        renamed = _former_name(ctx.subjects, i, s, window)
        city = s[7]
        area = CITIES[city].area_code
        authorities = ctx.authorities[city]
        cumulative, types = _LICENCE_TABLE[_KIND_LETTER[s[0]]]
        for _ in range(count):
            t: _LicenceType = types[bisect.bisect(cumulative, random_())]
            day_no = int(random_() * window)
            day = days[day_no]
            authority = authorities[_DEPT_INDEX[t.dept]]
            if t.years is None:
                until = _open_ended()
                status, remark = "1", ""
            else:
                end = _add_years(day, t.years) - dt.timedelta(days=1)
                until = end.strftime("%Y/%m/%d")
                status, remark = ("2", "有效期届满") if end < today else ("1", "")
            if status == "1" and random_() < 0.03:
                status, remark = "2", "已注销"
            yield {
                **cells,
                **({"行政相对人名称": renamed[0]} if renamed and day_no < renamed[1] else {}),
                "行政许可决定文书名称": t.document,
                "行政许可决定文书号": ctx.next_number(authority.licence_prefix, day.year),
                "许可类别": t.category,
                "许可证书名称": t.certificate,
                "许可编号": t.number(cells, area, day.year, int(random_() * 10**7)),
                "许可内容": t.contents[int(random_() * len(t.contents))],
                "许可决定日期": day_text[day_no],
                "有效期自": day_text[day_no],
                "有效期至": until,
                "许可机关": authority.name,
                "许可机关统一社会信用代码": authority.uscc,
                "当前状态": status,
                "数据来源单位": authority.name,
                "数据来源单位统一社会信用代码": authority.uscc,
                "备注": remark,
            }


# --------------------------------------------------------------------------- CSV


def write_csv(
    path: Path,
    headers: Sequence[str],
    rows: Iterable[Mapping[str, str]],
    *,
    encoding: str = "utf-8",
    newline: str = "\n",
) -> int:
    """Write a header line and ``rows`` (streamed) to ``path``; return the number of rows.

    Cells come from each row by header; a header a row lacks gives an empty cell, and keys
    that are not headers are ignored. ``encoding='gbk'`` with ``newline='\\r\\n'`` gives the
    files many department systems export.
    """
    headers = tuple(headers)
    if len(headers) == 1:
        only = headers[0]

        def pick(row: Mapping[str, str]) -> tuple[str, ...]:
            return (row[only],)

    else:
        pick = operator.itemgetter(*headers)
    # A line with no quote or line-break character and no comma inside a cell is exactly what
    # csv.writer would write unquoted (but csv quotes a lone empty cell: no fast path for
    # one-column files).
    needs_quoting = re.compile("[" + re.escape("".join(sorted({'"', "\r", "\n", *newline}))) + "]")
    separators = len(headers) - 1
    fast = separators > 0
    written = 0
    with open(path, "w", encoding=encoding, newline="", buffering=1 << 20) as handle:
        writer = csv.writer(handle, lineterminator=newline)
        # The csv module (before Python 3.13) leaves a lone carriage return unquoted, which
        # readers take for a line end; rows with one are written fully quoted instead.
        quote_all = csv.writer(handle, lineterminator=newline, quoting=csv.QUOTE_ALL)
        write = handle.write
        search = needs_quoting.search
        writer.writerow(headers)
        for row in rows:
            written += 1
            try:
                values = pick(row)
            except KeyError:
                values = [row.get(h, "") for h in headers]
            try:
                line = ",".join(values)
            except TypeError:  # a cell that is not text (None, a number): let csv convert it
                writer.writerow(values)
                continue
            if fast and line.count(",") == separators and not search(line):
                write(line + newline)
            elif "\r" in line:
                quote_all.writerow(values)
            else:
                writer.writerow(values)
    return written
