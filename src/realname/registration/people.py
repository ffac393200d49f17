"""Persons in the registry: found by the blind index of their document number, stored encrypted."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from realname.context import Services
from realname.documents.models import ValidDocument
from realname.documents.numbers import canonical_number
from realname.privacy.fields import blind_index
from realname.registry.tables import Person


def doc_index(svc: Services, doc_type: str, number: str) -> str:
    """The person's key: always over the canonical number, whoever calls."""
    return blind_index(svc.keyring, canonical_number(number), context=f"document.{doc_type}")


def upsert_person(s: Session, svc: Services, doc: ValidDocument) -> Person:
    """The person with this document, created or updated with what the card says now (a new address)."""
    now = svc.now()
    index = doc_index(svc, doc.doc_type.value, doc.number)
    person = s.execute(
        select(Person).where(Person.doc_type == doc.doc_type.value, Person.doc_index == index)
    ).scalar_one_or_none()
    enc = svc.cipher.encrypt
    if person is None:
        person = Person(doc_type=doc.doc_type.value, doc_index=index, created_at=now,
                        number_enc=enc(doc.number, context="person.number"), number_masked=doc.display_number,
                        birth_date_enc=enc(doc.birth_date.isoformat(), context="person.birth_date"),
                        sex=doc.sex.value, name_enc="", updated_at=now)
        s.add(person)
    person.name_enc = enc(doc.name, context="person.name")
    person.address_enc = enc(doc.address, context="person.address") if doc.address else None
    person.updated_at = now
    s.flush()
    return person


def person_name(svc: Services, person: Person) -> str:
    return svc.cipher.decrypt(person.name_enc, context="person.name")

