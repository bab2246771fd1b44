"""Property-based API test: every operation of the OpenAPI spec, fed generated requests, never answers 5xx.

Schemathesis reads ``/api/v1/openapi.json`` from ``create_app()`` in-process (ASGI) on a database with
a little demo data, on SQLite and on PostgreSQL. Each operation is called anonymously and with a
department's API key (so that the batch intake is exercised, not only its 401).
"""

from __future__ import annotations

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from xinyong.accounts import service as accounts
from xinyong.core import db, ids

MAX_EXAMPLES = 25


@pytest.fixture
def api_key(database: sa.Engine) -> str:
    from xinyong.demo.service import load_demo

    load_demo(subjects=30, seed=1, actor="test")
    with db.transaction() as session:
        uscc = ids.make_uscc("11130100" + ids.make_org_code("APQ7K3M2"))
        department = accounts.register_department(session, uscc=uscc, name="接口测试部门")
        plaintext, _key = accounts.create_api_key(session, department_id=department.id, name="schemathesis",
                                                  created_by="test")
    return plaintext


@pytest.fixture
def api_schema(api_key: str):  # type: ignore[no-untyped-def]
    from xinyong.web.app import create_app

    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app())


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_api_never_answers_a_server_error(case, api_key: str) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(checks=[not_a_server_error])
    case.call_and_validate(headers={"X-API-Key": api_key}, checks=[not_a_server_error])
