"""Every route of the application, for every role: the answer matches the permission it declares.

Routes are discovered at run time, so a route added anywhere is checked without editing this file;
a route that declares no permission fails the test unless it is public infrastructure listed below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from webhelpers import login, make_department, make_user
from xinyong.accounts import service
from xinyong.accounts.access import PERMISSIONS, Role
from xinyong.core import db

# Routes that need no permission: health, metrics, static files, API docs, logging in and out.
PUBLIC_INFRASTRUCTURE = {
    "/healthz", "/readyz", "/metrics", "/static", "/api/docs", "/api/docs/oauth2-redirect",
    "/docs/oauth2-redirect", "/api/v1/openapi.json", "/login", "/logout",
}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
SAMPLE_USCC = "911301026CR765LW53"
_PARAM = re.compile(r"{([^}:]+)(?::([^}]+))?}")


@dataclass(frozen=True)
class Endpoint:
    path: str
    methods: frozenset[str]
    permissions: frozenset[str] | None  # None: declares none
    body: str | None = None  # "form" | "json" | None


def _permissions(dependant: Dependant | None, extra: Iterable[params.Depends]) -> set[str]:
    found: set[str] = set()

    def walk(d: Dependant) -> None:
        for sub in d.dependencies:
            if hasattr(sub.call, "permission"):
                found.add(sub.call.permission)
            walk(sub)

    if dependant is not None:
        walk(dependant)
    for dep in extra:
        if hasattr(dep.dependency, "permission"):
            found.add(dep.dependency.permission)
    return found


def _body_kind(route: APIRoute) -> str | None:
    if not route.dependant.body_params:
        return None
    if any(isinstance(p.field_info, params.Form) for p in route.dependant.body_params):
        return "form"
    return "json"


def _walk(routes: Iterable[object], prefix: str = "", extra: tuple[params.Depends, ...] = ()) -> Iterator[Endpoint]:
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:  # FastAPI's _IncludedRouter
            context = route.include_context  # type: ignore[attr-defined]
            yield from _walk(original.routes, prefix + context.prefix, extra + tuple(context.dependencies))
        elif isinstance(route, APIRoute):
            perms = _permissions(route.dependant, extra)
            yield Endpoint(prefix + route.path, frozenset(route.methods or ()), frozenset(perms) or None,
                           _body_kind(route))
        elif isinstance(route, Mount):
            yield Endpoint(prefix + route.path, frozenset({"GET"}), None)
        elif isinstance(route, Route):
            yield Endpoint(prefix + route.path, frozenset(route.methods or {"GET"}), None)
        else:
            yield Endpoint(prefix + str(getattr(route, "path", repr(route))), frozenset({"GET"}), None)


def endpoints(app) -> list[Endpoint]:  # type: ignore[no-untyped-def]
    return list(_walk(app.routes))


def _concrete(path: str) -> str:
    def value(match: re.Match[str]) -> str:
        name, convertor = match.group(1).lower(), match.group(2)
        if convertor == "path":
            return "x"
        if "uscc" in name or "code" in name:
            return SAMPLE_USCC
        return "1"

    return _PARAM.sub(value, path)


def _is_public(permissions: frozenset[str]) -> bool:
    return all(Role.PUBLIC in PERMISSIONS[p] for p in permissions)


def _to_login(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code in (302, 303, 307) and response.headers.get("location", "").startswith("/login")


def test_every_route_declares_a_permission(app):
    undeclared = sorted(f"{sorted(e.methods)} {e.path}" for e in endpoints(app)
                        if e.permissions is None and e.path not in PUBLIC_INFRASTRUCTURE)
    assert not undeclared, "routes without require(permission) and not in the public allow-list:\n" + "\n".join(
        undeclared)


def test_route_discovery_sees_included_routers(app):
    paths = {e.path for e in endpoints(app)}
    assert {"/login", "/admin/users", "/api/v1/accounts/me", "/healthz"} <= paths
    me = next(e for e in endpoints(app) if e.path == "/api/v1/accounts/me")
    assert me.permissions == {"public.read"}
    # the audit log, for the roles that hold audit.read (auditors, administrators) and no other
    audit_log = {e.path: e.permissions for e in endpoints(app) if "audit" in e.path}
    assert audit_log == {p: {"audit.read"} for p in
                         ("/workbench/audit", "/workbench/audit.csv", "/api/v1/audit", "/api/v1/audit/chain")}


def _clients(app) -> dict[str, tuple[TestClient, str]]:  # type: ignore[no-untyped-def]
    """One logged-in client per role (plus anonymous), with its CSRF token."""
    with db.transaction() as s:
        # Things the sample path values (1, a real USCC) point at, owned by nobody under test:
        # an administrator's "disable user 1" or "revoke key 1" must not end a session of the matrix.
        department = make_department(s, uscc=SAMPLE_USCC, name="样例部门")
        make_user(s, Role.AUDITOR, username="matrix-target")
        service.create_api_key(s, department_id=department.id, name="样例密钥", created_by="test")
        names = {role: make_user(s, role, department=department if role == Role.OFFICER else None).username
                 for role in Role}
    clients: dict[str, tuple[TestClient, str]] = {
        "anonymous": (TestClient(app, base_url="https://testserver", raise_server_exceptions=False), "")
    }
    for role, username in names.items():
        client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
        clients[role.value] = (client, login(client, username))
    return clients


def test_every_route_answers_every_role_as_its_permission_says(app):
    clients = _clients(app)
    problems: list[str] = []
    checked = 0
    for endpoint in endpoints(app):
        if endpoint.path in PUBLIC_INFRASTRUCTURE or endpoint.permissions is None:
            continue  # the allow-list, or already reported by test_every_route_declares_a_permission
        url = _concrete(endpoint.path)
        for method in sorted(endpoint.methods - {"HEAD", "OPTIONS"}):
            for who, (client, csrf) in clients.items():
                kwargs: dict[str, object] = {"follow_redirects": False, "headers": {"X-CSRF-Token": csrf}}
                if method in STATE_CHANGING:
                    if endpoint.body == "json":
                        kwargs["json"] = {}
                    else:
                        kwargs["data"] = {"csrf_token": csrf}
                response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
                checked += 1
                status = response.status_code
                if who == "anonymous":
                    holds = _is_public(endpoint.permissions)
                else:
                    holds = all(Role(who) in PERMISSIONS[p] for p in endpoint.permissions)
                where = f"{method} {url} as {who} (needs {sorted(endpoint.permissions)}): {status}"
                if holds:
                    if status in (401, 403) or (who != "anonymous" and _to_login(response)):
                        problems.append(f"refused a role that holds the permission — {where}")
                elif who == "anonymous":
                    if not (status == 401 or _to_login(response)):
                        problems.append(f"anonymous not sent to log in — {where}")
                elif status != 403:
                    problems.append(f"expected 403 — {where}")
    assert checked > 0
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ["/api/v1/accounts/me"])
def test_a_bad_api_key_is_refused_on_the_api(client, path):
    response = client.get(path, headers={"X-API-Key": "xy_not-a-real-key"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_discovery_finds_unprotected_and_nested_routes():
    from fastapi import APIRouter, Depends, FastAPI

    from xinyong.accounts.access import require

    inner = APIRouter(prefix="/inner", dependencies=[Depends(require("audit.read"))])

    @inner.get("/guarded")
    def guarded() -> None: ...

    outer = APIRouter(prefix="/outer")

    @outer.get("/open")
    def open_route() -> None: ...

    outer.include_router(inner, prefix="/n")
    app = FastAPI()
    app.include_router(outer, prefix="/api")
    found = {e.path: e.permissions for e in endpoints(app)}
    assert found["/api/outer/open"] is None
    assert found["/api/outer/n/inner/guarded"] == {"audit.read"}


# Who README's table of the web platform names, as roles
_README_WHO = {
    "everyone": set(Role), "other systems": set(Role), "a subject": {Role.SUBJECT},
    "officers": {Role.OFFICER}, "department systems": {Role.OFFICER},  # an API key acts as an officer
    "approvers": {Role.APPROVER}, "administrators": {Role.ADMIN}, "auditors": {Role.AUDITOR},
    "staff": {Role.OFFICER, Role.APPROVER, Role.ADMIN, Role.AUDITOR},
}


def _readme_rows() -> list[tuple[str, str]]:
    """(where, who) of each row of README's table "The web platform"."""
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## The web platform", 1)[1].split("\n\n", 2)[1]
    rows = [re.split(r"(?<!\\)\|", line)[1:3] for line in table.splitlines()[2:]]
    return [(where.strip(), who.strip()) for where, who in rows]


def test_readme_says_who_may_use_each_page_as_the_access_rules_do():
    """README's table of pages said auditors upload files, that only officers and administrators
    see the records, and the rules only the credit office; every row now names the roles the
    routes let in (for each path the row names, by the method it names, GET if none)."""
    from xinyong.web.app import create_app

    routes = {(re.sub(r"{[^}]*}", "{}", e.path), m): e.permissions for e in endpoints(create_app())
              for m in e.methods}
    problems = []
    for where, who in _readme_rows():
        words = [w.strip() for w in re.split(r",| and ", re.sub(r"\([^)]*\)", "", who)) if w.strip()]
        problems += [f"{where}: “{w}” is no role" for w in words if w not in _README_WHO]
        said = set().union(*(_README_WHO.get(w, set()) for w in words))
        for cell in re.findall(r"`([^`]+)`", where):
            method, _, path = cell.rpartition(" ")
            permissions = routes.get((re.sub(r"{[^}]*}", "{}", path.split("?")[0]), method or "GET"))
            if permissions is None:
                problems.append(f"{cell}: no such route")
                continue
            allowed = set.intersection(*({*PERMISSIONS[p]} for p in permissions))
            if allowed != said:
                problems.append(f"{cell}: README says {sorted(r.value for r in said)}, "
                                f"the access rules let in {sorted(r.value for r in allowed)}")
    assert len(_readme_rows()) >= 15
    assert not problems, "\n".join(problems)
