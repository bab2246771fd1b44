"""Departments: lookup and registration."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.models import Department
from xinyong.core import clock, ids


def find_department(session: Session, uscc: str) -> Department | None:
    return session.scalar(select(Department).where(Department.uscc == uscc))


def department_names(session: Session) -> dict[str, str]:
    """Name -> USCC of every registered department (to read files that carry only names)."""
    return {d.name: d.uscc for d in session.scalars(select(Department))}


def get_department(session: Session, department_id: int) -> Department | None:
    return session.get(Department, department_id)


def register_department(
    session: Session, *, uscc: str, name: str, batch_id: int | None = None, auto: bool = False
) -> Department:
    """Register a department by its USCC; the area comes from the code."""
    department = Department(
        uscc=uscc,
        name=name,
        area_code=ids.uscc_area_code(uscc),
        registered_at=clock.now(),
        auto_registered=auto,
        registered_by_batch_id=batch_id,
    )
    session.add(department)
    session.flush()
    return department


def list_departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.area_code, Department.name)))
