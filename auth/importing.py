"""The ``companies`` and ``contacts`` sections of an import file (docs/rules.md#import-format).

A company is identified by its CNPJ, a contact by its CPF: importing a file twice changes nothing.
A contact names its company by CNPJ (in the database or earlier in the same file). A plaintext
``password`` is stored only as a bcrypt hash; ``password_hash`` (already bcrypt) may come instead.
On update, a field the record leaves out (``password``, ``admin``) keeps its stored value. A
plaintext ``password`` too easy to guess (one digit repeated, a run like ``1234``, digits of the
contact's own CPF: ``auth.passwords.password_problem``) is refused, as by ``contacts set-password``.

A given ``password_hash`` must have a cost from 10 (OWASP's floor) to ``BCRYPT_ROUNDS``
(``auth.passwords.importable_costs``; tests, which run at cost 4, accept cost 4 only). A cheaper
hash is cracked too easily once copied; a costlier one would make every refusal of the contact's
logins slower than an unknown CPF's, so the time would tell that the CPF exists (and a cost-31 hash
would hold a worker for days). A cost below ``BCRYPT_ROUNDS`` is upgraded at the contact's next
good login; until then ``auth.passwords.password_matches`` pads its refusals to the time of one
check at ``BCRYPT_ROUNDS``. Prefer plaintext ``password`` (hashed here at ``BCRYPT_ROUNDS``). The
cost is checked when the record is applied (it depends on the configured cost), so such a
problem is listed after the file's other problems are fixed.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    ValidationInfo,
    model_validator,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.documents import cnpj_problem, cpf_problem, normalize_document
from auth.models import NAME_LENGTH, Company, Contact, utc_now
from auth.passwords import (
    Pepper,
    hash_cost,
    hash_password,
    importable_costs,
    looks_like_bcrypt_hash,
    password_matches,
    password_problem,
    pepper_id,
)
from importer.errors import RecordError
from importer.fields import SpeakableText
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


def _password(raw: str, info: ValidationInfo) -> str:
    """4 to 12 digits, and not too easy to guess (``auth.passwords.password_problem``; the CPF,
    validated before this field, is known unless it was refused)."""
    problem = password_problem(raw, info.data.get("cpf"))
    if problem is not None:
        raise ValueError(problem)
    return raw


def _password_hash(raw: str) -> str:
    """The shape of a bcrypt hash; its cost is checked against ``BCRYPT_ROUNDS`` on upsert."""
    if not looks_like_bcrypt_hash(raw):
        raise ValueError("must be a bcrypt hash ($2b$, a 2-digit cost, 53 more characters)")
    return raw


def _check_given_cost(password_hash: str, rounds: int) -> None:
    """Refuses a given hash whose cost is outside ``importable_costs(rounds)``."""
    cost = hash_cost(password_hash)
    costs = importable_costs(rounds)
    if cost in costs:
        return
    instead = (
        f"give the plain password instead (hashed here at cost {rounds}), or a hash of cost "
        + (f"{costs.start} to {rounds}" if len(costs) > 1 else f"{rounds}")
    )
    if cost < costs.start:
        why = (f"is below {costs.start}, the least accepted: a copy of the hash would be cracked "
               "too easily")
    else:
        why = (f"is above the configured cost {rounds} (BCRYPT_ROUNDS): each wrong password "
               "for this contact would take longer to refuse than for an unknown CPF, so the "
               "time would tell that the CPF exists")
    raise RecordError("password_hash", f"bcrypt cost {cost} {why}; {instead}")


_RECORD = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
Cpf = Annotated[str, AfterValidator(_cpf)]
Cnpj = Annotated[str, AfterValidator(_cnpj)]
Name = Annotated[str, Field(min_length=1, max_length=NAME_LENGTH), SpeakableText]
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
    # True once ``prepare`` swapped ``password`` for its hash: then ``password_hash`` was made
    # here at BCRYPT_ROUNDS (or is the stored one, for the same password), not given by the file.
    # Private, so no file can set it.
    _hashed_here: bool = PrivateAttr(default=False)

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


def _hash_to_store(record: ContactRecord, stored: tuple[str | None, str | None], rounds: int,
                   pepper: Pepper | None) -> str | None:
    """The hash the contact should end with (``stored``: its hash and pepper id); None to keep
    what is stored."""
    if record.password is None:
        return record.password_hash
    stored_hash, stored_pepper = stored
    if (
        stored_hash is not None
        and hash_cost(stored_hash) >= rounds
        and stored_pepper == pepper_id(pepper)
        and password_matches(record.password, stored_hash, rounds=rounds, pepper=pepper)
    ):
        return stored_hash  # same password: a new salt would be a change for nothing
    return hash_password(record.password, rounds, pepper)


def _stored_secret(session: Session, cpf: str) -> tuple[str | None, str | None]:
    row = session.execute(select(Contact.password_hash, Contact.password_pepper)
                          .where(Contact.cpf == cpf)).one_or_none()
    return (row.password_hash, row.password_pepper) if row is not None else (None, None)


class ContactsSection:
    """A plaintext ``password`` is hashed with ``pepper`` (``PASSWORD_PEPPER``); a given
    ``password_hash`` is stored as made elsewhere, without one, and gets it at the contact's
    next good login."""

    key = "contacts"
    identity_field = "cpf"

    def __init__(self, pepper: Pepper | None = None) -> None:
        self.pepper = pepper

    def parse(self, raw: object) -> ContactRecord:
        return ContactRecord.model_validate(raw)

    def prepare(self, session: Session, record: ContactRecord, *, rounds: int) -> ContactRecord:
        """Swaps a plaintext password for its hash (the bcrypt work), reading only."""
        if record.password is None:
            return record
        new_hash = _hash_to_store(record, _stored_secret(session, record.cpf), rounds,
                                  self.pepper)
        prepared = record.model_copy(update={"password": None, "password_hash": new_hash})
        prepared._hashed_here = True
        return prepared

    def upsert(self, session: Session, record: ContactRecord, *, rounds: int) -> bool:
        if record.password_hash is not None and not record._hashed_here:
            _check_given_cost(record.password_hash, rounds)
        company_id = session.scalar(select(Company.id).where(Company.cnpj == record.company))
        if company_id is None:
            raise RecordError(
                "company", f"no company with CNPJ {record.company} in the database or the file"
            )
        contact = session.scalar(select(Contact).where(Contact.cpf == record.cpf))
        stored = (contact.password_hash, contact.password_pepper) if contact is not None \
            else (None, None)
        new_hash = _hash_to_store(record, stored, rounds, self.pepper)
        # made here (now or in ``prepare``) with the pepper; a given hash, without one
        new_pepper = pepper_id(self.pepper) if (record._hashed_here or record.password) else None
        now = utc_now()
        if contact is None:
            session.add(
                Contact(
                    cpf=record.cpf,
                    name=record.name,
                    company_id=company_id,
                    is_admin=bool(record.admin),
                    password_hash=new_hash,
                    password_pepper=new_pepper if new_hash is not None else None,
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
            contact.replace_password_hash(new_hash, now, new_pepper)
            changed = True
        if changed:
            contact.updated_at = now
        return changed


def sections(pepper: Pepper | None = None) -> list[ImportSection]:
    """The lists this package imports, passwords hashed with ``pepper``."""
    return [CompaniesSection(), ContactsSection(pepper)]


SECTIONS: list[ImportSection] = sections()
