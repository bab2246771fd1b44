"""No public page or API answer contains a full resident id, whatever is asked."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from xinyong.core import db
from xinyong.core.crypto import get_keyring
from xinyong.core.ids import mask_ric
from xinyong.demo.service import load_demo
from xinyong.subjects.models import LegalRepresentative, Subject
from xinyong.subjects.service import public_code


@pytest.fixture
def demo(database: sa.Engine) -> None:
    load_demo(subjects=100, seed=1, actor="test")


def _full_ids_and_subjects() -> tuple[set[str], list[tuple[str, str, str | None]]]:
    keyring = get_keyring()
    with db.transaction() as session:
        subjects = session.scalars(sa.select(Subject).order_by(Subject.id)).all()
        full = {keyring.decrypt(s.person_cipher) for s in subjects if s.person_cipher}
        full |= {keyring.decrypt(c) for c in session.scalars(
            sa.select(LegalRepresentative.id_cipher).where(LegalRepresentative.id_cipher.is_not(None)))}
        persons = [s for s in subjects if s.kind == "natural_person"]
        others = [s for s in subjects if s.kind != "natural_person"][:30]
        sample = [(public_code(s), s.name, keyring.decrypt(s.person_cipher) if s.person_cipher else None)
                  for s in persons + others]
    return full, sample


@pytest.mark.usefixtures("demo")
def test_no_public_answer_contains_a_full_resident_id(client):
    full, sample = _full_ids_and_subjects()
    persons = [entry for entry in sample if entry[2]]
    assert len(full) >= 20 and len(persons) >= 5 and len(sample) >= 30
    urls = ["/", "/about", "/search?q=有限公司", "/search?q=有限公司&page=2", "/api/v1/subjects?q=有限公司"]
    for kind in ("penalty", "licence"):
        urls += [f"/disclosures?kind={kind}&page={page}" for page in range(1, 6)]
    refused = []  # a resident id in a URL is refused (400), without echoing it
    posted = []  # the id in a request body finds the person
    for code, name, person_id in sample:
        urls += [f"/subjects/{code}", f"/api/v1/subjects/{code}", f"/search?q={name}",
                 f"/api/v1/subjects?q={name}"]
        if person_id:  # searching by the id itself must not echo it back
            refused += [f"/search?q={person_id}", f"/api/v1/subjects?q={person_id}",
                        f"/subjects/{person_id}", f"/api/v1/subjects/{person_id}"]
            posted += [("/search", {"data": {"q": person_id}}),
                       ("/api/v1/subjects/search", {"json": {"q": person_id}})]
    leaks = []
    answers = [(url, client.get(url), 200) for url in urls]
    answers += [(url, client.get(url), 400) for url in refused]
    answers += [(url, client.post(url, **body), 200) for url, body in posted]  # type: ignore[arg-type]
    for url, response, status in answers:
        assert response.status_code == status, (url, response.status_code)
        body = response.text.upper()
        leaks += [(url, number) for number in full if number.upper() in body]
    assert leaks == []
    # the scan reads real pages: each person's page shows the masked form
    for code, _name, person_id in persons:
        assert mask_ric(person_id) in client.get(f"/subjects/{code}").text
