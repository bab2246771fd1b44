"""An installed package runs as a checkout does: the wheel carries the migrations and the policy
packs, and keeps its database and generated key in `var/` of the directory it is run from.

The wheel is built from a copy of this checkout with the build backend of the test environment
(offline: no build isolation, no index) and installed without dependencies into a fresh virtual
environment that borrows those of the test environment; every command runs in a directory of its
own, outside the checkout, with none of the checkout's paths or settings in its environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from filehelpers import FIXTURES
from xinyong.core import db

# About a minute in all (a wheel built, a virtual environment made, a dozen commands each started
# afresh): marked, and run by the suite as every other test.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "aW5zdGFsbGVkLXBhY2thZ2UtdGVzdC1rZXktMzItYnl0ZXM="


def _run(args: list[str], **options) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, **options)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``xinyong`` command of the wheel, installed in a fresh virtual environment."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"  # a copy: building in the checkout would leave build/ and egg-info in it
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
          "--wheel-dir", str(work / "wheel"), str(source)])
    (wheel,) = (work / "wheel").glob("xinyong-*.whl")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
          str(wheel)])
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz-test-dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n", encoding="utf-8")
    package = _run([str(python), "-c", "import xinyong; print(xinyong.__file__)"], env=_env(), cwd=work).stdout
    assert Path(package.strip()).is_relative_to(venv), package  # the installed package, not the checkout's
    return venv / "bin" / "xinyong"


def _env(**settings: str) -> dict[str, str]:
    """A clean environment: no PYTHONPATH, none of the test run's XINYONG_* settings."""
    clean = {name: value for name, value in os.environ.items()
             if name in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {**clean, "COLUMNS": "250", **{f"XINYONG_{name.upper()}": value for name, value in settings.items()}}


def xinyong(command: Path, *args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run([str(command), *args], capture_output=True, text=True, cwd=cwd, timeout=600,
                          env=_env(today="2026-11-21", **settings))


def test_the_installed_package_migrates_a_database_and_applies_its_packs(installed, empty_database_url, tmp_path):
    """Found by probing: the wheel held neither the migrations nor the packs, and looked for them
    in ``<venv>/lib/python3.11``: `db upgrade` and every other command ended in a traceback."""
    elsewhere = tmp_path / "elsewhere"
    upgraded = xinyong(installed, "db", "upgrade", cwd=elsewhere, database_url=empty_database_url,
                       secret_key=SECRET_KEY)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == f"数据库已升级到 {db.head_revision()}"
    current = xinyong(installed, "db", "current", cwd=elsewhere, database_url=empty_database_url)
    assert (current.returncode, current.stdout.strip()) == (0, db.head_revision())
    rules = xinyong(installed, "policy", "show", "--date", "2024-08-13", cwd=elsewhere,
                    database_url=empty_database_url)
    assert rules.returncode == 0, rules.stderr
    assert rules.stdout.startswith("2024-08-13 在 全国 生效的规则：4 条")
    for rule in ("penalty-classification-2023", "penalty-publication-2023", "publication-deadline-2016"):
        assert f"[{rule}]" in rules.stdout
    assert "130100（河北省石家庄市）、410481（河南省舞钢市）" in rules.stdout  # the local packs too
    stored = xinyong(installed, "ingest", "penalties", str(FIXTURES / "penalties.csv"), cwd=elsewhere,
                     database_url=empty_database_url, secret_key=SECRET_KEY)
    assert stored.returncode == 0, stored.stdout + stored.stderr
    assert list(elsewhere.iterdir()) == [], "nothing is written where the commands run when a URL is given"


def test_the_installed_package_keeps_its_database_and_key_in_var_of_the_current_directory(installed, tmp_path):
    platform = tmp_path / "platform"
    upgraded = xinyong(installed, "db", "upgrade", cwd=platform)
    assert upgraded.returncode == 0, upgraded.stderr
    assert sorted(p.name for p in (platform / "var").iterdir()) == ["secret.key", "xinyong.db"]
    # another directory is another platform: no database there until it is created
    other = xinyong(installed, "subject", "show", "911301026CR765LW53", cwd=tmp_path / "other")
    assert other.returncode == 1
    assert other.stderr.startswith(f"错误：数据库文件不存在：{tmp_path / 'other' / 'var' / 'xinyong.db'}")
    stored = xinyong(installed, "ingest", "penalties", str(FIXTURES / "penalties.csv"), cwd=platform)
    assert stored.returncode == 0, stored.stdout + stored.stderr
    shown = xinyong(installed, "subject", "show", "911301026CR765LW53", cwd=platform)
    assert shown.returncode == 0 and "石家庄市瑞丰新源贸易有限公司" in shown.stdout


def test_an_operator_points_the_installed_package_at_packs_of_their_own(installed, tmp_path):
    packs = tmp_path / "our-packs"
    (packs / "national").mkdir(parents=True)
    (packs / "national" / "deadlines.yaml").write_text(textwrap.dedent("""\
        pack: our-deadlines
        jurisdiction: CN
        title: 本地维护的公示时限
        rules:
          - id: our-publication-deadline
            kind: publication_deadline
            title: 行政许可、行政处罚信息上网公示时限（本平台）
            applies_to: [licence, penalty]
            effective_from: 2016-01-01
            effective_to: null
            params: {working_days: 5}
            source: {document: 本平台的规定}
        """), encoding="utf-8")
    platform = tmp_path / "platform"
    assert xinyong(installed, "db", "upgrade", cwd=platform).returncode == 0
    rules = xinyong(installed, "policy", "show", cwd=platform, policy_dir=str(packs))
    assert rules.returncode == 0, rules.stderr
    assert "生效的规则：1 条" in rules.stdout and "[our-publication-deadline]" in rules.stdout
    assert "5个工作日" in rules.stdout and "publication-deadline-2016" not in rules.stdout
