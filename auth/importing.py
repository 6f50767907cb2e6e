"""The ``companies`` and ``contacts`` sections of an import file (docs/rules.md#import-format).

A company is identified by its CNPJ, a contact by its CPF: importing a file twice changes nothing.
A contact names its company by CNPJ (in the database or earlier in the same file). A plaintext
``password`` is stored only as a bcrypt hash; ``password_hash`` (already bcrypt) may come instead.
On update, a field the record leaves out (``password``, ``admin``) keeps its stored value.

A given ``password_hash`` must have a cost of 04 to 14 (``MAX_CHECKED_ROUNDS``): every step
doubles the time a login takes to check it, and a cost-31 hash would hold a worker for days. A cost
below ``BCRYPT_ROUNDS`` is accepted and upgraded at the contact's next good login; until then a
wrong password for that contact is answered faster than an unknown CPF (which costs a check at
``BCRYPT_ROUNDS``), so the timing tells that the CPF exists. Prefer plaintext ``password`` (hashed
here at ``BCRYPT_ROUNDS``) or hashes made at the configured cost.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.documents import cnpj_problem, cpf_problem, normalize_document
from auth.models import NAME_LENGTH, Company, Contact, utc_now
from auth.passwords import (
    MAX_CHECKED_ROUNDS,
    PASSWORD_RULE,
    hash_cost,
    hash_password,
    is_valid_password,
    looks_like_bcrypt_hash,
    password_matches,
)
from importer.errors import RecordError
from importer.sections import ImportSection, assign_changed


def _cpf(raw: str) -> str:
    problem = cpf_problem(raw)
    if problem is not None:
        raise ValueError(problem)
    return normalize_document(raw)


def _cnpj(raw: str) -> str:
    problem = cnpj_problem(raw)
    if problem is not None:
        raise ValueError(problem)
    return normalize_document(raw)


def _password(raw: str) -> str:
    if not is_valid_password(raw):
        raise ValueError(PASSWORD_RULE)
    return raw


def _password_hash(raw: str) -> str:
    """A bcrypt hash of cost 04 to 14; below ``BCRYPT_ROUNDS`` it is accepted but, until the
    contact's next good login upgrades it, makes a wrong password quicker to refuse than an
    unknown CPF (see the module docstring)."""
    if not looks_like_bcrypt_hash(raw):
        raise ValueError("must be a bcrypt hash ($2b$, cost 04 to 14, 53 more characters)")
    cost = hash_cost(raw)
    if cost > MAX_CHECKED_ROUNDS:
        raise ValueError(
            f"bcrypt cost {cost} is too high: at most {MAX_CHECKED_ROUNDS}, or every login of "
            "this contact would hold the server far too long (each step doubles the time); "
            "give the plain password instead, or a hash made at the configured cost"
        )
    return raw


_RECORD = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
Cpf = Annotated[str, AfterValidator(_cpf)]
Cnpj = Annotated[str, AfterValidator(_cnpj)]
Name = Annotated[str, Field(min_length=1, max_length=NAME_LENGTH)]
Password = Annotated[str, AfterValidator(_password)]
PasswordHash = Annotated[str, AfterValidator(_password_hash)]


class CompanyRecord(BaseModel):
    model_config = _RECORD

    cnpj: Cnpj
    name: Name


class ContactRecord(BaseModel):
    model_config = _RECORD

    cpf: Cpf
    name: Name
    company: Cnpj
    password: Password | None = Field(default=None, repr=False)
    password_hash: PasswordHash | None = Field(default=None, repr=False)
    admin: StrictBool | None = None

    @model_validator(mode="after")
    def _one_secret(self) -> ContactRecord:
        if self.password is not None and self.password_hash is not None:
            raise ValueError("give password or password_hash, not both")
        return self


class CompaniesSection:
    key = "companies"
    identity_field = "cnpj"

    def parse(self, raw: object) -> CompanyRecord:
        return CompanyRecord.model_validate(raw)

    def upsert(self, session: Session, record: CompanyRecord, *, rounds: int) -> bool:
        company = session.scalar(select(Company).where(Company.cnpj == record.cnpj))
        if company is None:
            session.add(Company(cnpj=record.cnpj, name=record.name))
            return True
        return assign_changed(company, {"name": record.name})


def _hash_to_store(record: ContactRecord, stored_hash: str | None, rounds: int) -> str | None:
    """The hash the contact should end with; None to keep what is stored."""
    if record.password is None:
        return record.password_hash
    if (
        stored_hash is not None
        and hash_cost(stored_hash) >= rounds
        and password_matches(record.password, stored_hash, rounds=rounds)
    ):
        return stored_hash  # same password: a new salt would be a change for nothing
    return hash_password(record.password, rounds)


class ContactsSection:
    key = "contacts"
    identity_field = "cpf"

    def parse(self, raw: object) -> ContactRecord:
        return ContactRecord.model_validate(raw)

    def prepare(self, session: Session, record: ContactRecord, *, rounds: int) -> ContactRecord:
        """Swaps a plaintext password for its hash (the bcrypt work), reading only."""
        if record.password is None:
            return record
        stored_hash = session.scalar(select(Contact.password_hash).where(Contact.cpf == record.cpf))
        return record.model_copy(
            update={"password": None, "password_hash": _hash_to_store(record, stored_hash, rounds)}
        )

    def upsert(self, session: Session, record: ContactRecord, *, rounds: int) -> bool:
        company_id = session.scalar(select(Company.id).where(Company.cnpj == record.company))
        if company_id is None:
            raise RecordError(
                "company", f"no company with CNPJ {record.company} in the database or the file"
            )
        contact = session.scalar(select(Contact).where(Contact.cpf == record.cpf))
        stored_hash = contact.password_hash if contact is not None else None
        new_hash = _hash_to_store(record, stored_hash, rounds)
        now = utc_now()
        if contact is None:
            session.add(
                Contact(
                    cpf=record.cpf,
                    name=record.name,
                    company_id=company_id,
                    is_admin=bool(record.admin),
                    password_hash=new_hash,
                    created_at=now,
                    updated_at=now,
                )
            )
            return True
        values: dict[str, object] = {"name": record.name, "company_id": company_id}
        if record.admin is not None:
            values["is_admin"] = record.admin
        changed = assign_changed(contact, values)
        if new_hash is not None and new_hash != contact.password_hash:
            contact.replace_password_hash(new_hash, now)
            changed = True
        if changed:
            contact.updated_at = now
        return changed


SECTIONS: list[ImportSection] = [CompaniesSection(), ContactsSection()]
