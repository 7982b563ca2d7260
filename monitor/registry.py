"""The public registry (SPEC 8, Art. 16): what anyone may read about the entities that hold or have held a title.

Reads the kept answer (`kept_answers`, SPEC 10) joined with the roster. The caller makes the kept answer fresh
for today first (`refresh`), so a status is right at any hour, also when no sweep has run today. Only the eight
public fields leave this module (`RegistryItem`): never contact e-mails, notes, event details, the reasons or
articles behind a status, who recorded anything, nor an entity that was never certified.

Search (`q`): part of the name or of the credit code, case ignored in codes (and for Latin letters in names).
Answered from the indexes of migration 0005: a name fragment of three or more characters through SQLite FTS5
trigram / PostgreSQL pg_trgm GIN; of two characters, which no trigram can serve, through the table of the
names' bigrams; a code fragment of three or more through the table of the codes' suffixes (a range scan).
One character is answered by a scan (`LIKE '%x%'`): a single Chinese character is in thousands of names, so
counting them costs about what the scan does (benchmarks/registry.py prints it), and a unigram table would
be as large as the names themselves.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor.config import RuleSettings
from monitor.domain import Kind, Status
from monitor.legal_time import WorkCalendar
from monitor.storage.db import Database
from monitor.storage.kept_models import KeptAnswerRow
from monitor.storage.models import EntityRow

PUBLIC_STATUSES = (Status.ACTIVE, Status.SUSPENDED, Status.REVOKED, Status.EXPIRED)
FIELDS = ("credit_code", "name", "kind", "district", "cert_no", "certified_on", "expires_on", "status")
MAX_Q = 100
TRIGRAM = 3

entities = EntityRow.__table__
kept_answers = KeptAnswerRow.__table__  # the kept answer (monitor.kept, SPEC 10)
registry_search = sa.table("registry_search", sa.column("rowid", sa.Integer))
bigrams = sa.table("registry_search_bigrams", sa.column("gram", sa.String), sa.column("entity_id", sa.Integer))
code_suffixes = sa.table("registry_search_codes", sa.column("suffix", sa.String), sa.column("entity_id", sa.Integer))

_CODE_CHARS = re.compile(r"^[0-9A-Za-z]+$")


@dataclass(frozen=True)
class RegistryItem:
    credit_code: str
    name: str
    kind: Kind
    district: str
    cert_no: str
    certified_on: date | None
    expires_on: date | None
    status: Status

    def as_json(self) -> dict[str, Any]:
        return {
            "credit_code": self.credit_code,
            "name": self.name,
            "kind": self.kind.value,
            "district": self.district,
            "cert_no": self.cert_no,
            "certified_on": self.certified_on.isoformat() if self.certified_on else None,
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
            "status": self.status.value,
        }


@dataclass(frozen=True)
class Filters:
    q: str = ""
    district: str | None = None
    kind: Kind | None = None
    status: Status | None = None


@dataclass(frozen=True)
class Page:
    items: list[RegistryItem]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def as_json(self) -> dict[str, Any]:
        return {
            "items": [item.as_json() for item in self.items],
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
        }


_COLUMNS = (
    entities.c.credit_code,
    entities.c.name,
    entities.c.kind,
    entities.c.district,
    entities.c.cert_no,
    kept_answers.c.certified_on,
    kept_answers.c.expires_on,
    kept_answers.c.status,
)
_JOIN = entities.join(kept_answers, kept_answers.c.entity_id == entities.c.id)


def _item(row: Any) -> RegistryItem:
    return RegistryItem(
        credit_code=row.credit_code,
        name=row.name,
        kind=Kind(row.kind),
        district=row.district,
        cert_no=row.cert_no or "",
        certified_on=row.certified_on,
        expires_on=row.expires_on,
        status=Status(row.status),
    )


def _like_pattern(fragment: str) -> str:
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _ascii_upper(text: str) -> str:
    return "".join(c.upper() if c.isascii() else c for c in text)


def _fts_phrase(fragment: str) -> str:
    return '"' + fragment.replace('"', '""') + '"'


def text_condition(dialect: str, q: str) -> sa.ColumnElement[bool]:
    """Rows whose name or credit code contains `q` (case ignored for Latin letters, so in codes)."""
    code = q.upper() if _CODE_CHARS.match(q) else None  # a credit code has only digits and capitals
    # PostgreSQL: ILIKE costs 4x LIKE on Chinese text; it is needed only when there is a letter to fold.
    cased = any(c.isascii() and c.isalpha() for c in q)
    if len(q) == 2:  # the names' bigrams; a two-character code fragment is in most codes: scan them
        pairs = sa.select(bigrams.c.entity_id).where(bigrams.c.gram == _ascii_upper(q))
        if code is None:
            return entities.c.id.in_(pairs)
        codes = sa.select(entities.c.id).where(entities.c.credit_code.like(_like_pattern(code)))
        return entities.c.id.in_(sa.union(pairs, codes))
    if len(q) < 2:
        # No index serves one character: a scan of the names (and the codes), see the module's text.
        if dialect == "sqlite":  # SQLite's LIKE ignores ASCII case
            name = entities.c.name.like(_like_pattern(q), escape="\\")
            code_hit = entities.c.credit_code.like(_like_pattern(code or ""), escape="\\")
        else:  # PostgreSQL's default LIKE escape is the backslash
            name = entities.c.name.ilike(_like_pattern(q)) if cased else entities.c.name.like(_like_pattern(q))
            code_hit = entities.c.credit_code.like(_like_pattern(code or ""))
        return sa.or_(name, code_hit) if code else name
    hits: list[sa.Select[Any]] = []
    if dialect == "sqlite":  # FTS5 trigram: case-insensitive phrase inside the name
        match = sa.literal_column("registry_search").op("MATCH")(sa.bindparam("phrase", "name : " + _fts_phrase(q)))
        hits.append(sa.select(registry_search.c.rowid).where(match))
    else:  # the pg_trgm GIN index on entities.name serves LIKE and ILIKE
        name = entities.c.name.ilike(_like_pattern(q)) if cased else entities.c.name.like(_like_pattern(q))
        hits.append(sa.select(entities.c.id).where(name))
    if code is not None:  # a suffix of the code starts with the fragment
        hits.append(
            sa.select(code_suffixes.c.entity_id).where(
                code_suffixes.c.suffix >= code, code_suffixes.c.suffix < code + "~"
            )
        )
    return entities.c.id.in_(hits[0] if len(hits) == 1 else sa.union(*hits))


def _where(session: Session, filters: Filters) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [kept_answers.c.status.in_([s.value for s in PUBLIC_STATUSES])]
    if filters.q:
        where.append(text_condition(session.get_bind().dialect.name, filters.q))
    if filters.district:
        where.append(entities.c.district == filters.district)
    if filters.kind:
        where.append(entities.c.kind == filters.kind.value)
    if filters.status:
        where.append(kept_answers.c.status == filters.status.value)
    return where


def search(session: Session, filters: Filters, page: int, per_page: int) -> Page:
    """One page of the registry and the number of entities that match, in roster order (`entities.id`: stable
    across pages, and the order in which both search indexes hand out their matches).

    With a search text or a filter on the roster, the page's rows carry the count (`count(*) OVER ()`): the
    index is searched once, not once to count and once for the page. Only a page past the last one asks for
    the count separately."""
    where = _where(session, filters)
    offset = (page - 1) * per_page
    page_query = (
        sa.select(*_COLUMNS).select_from(_JOIN).where(*where).order_by(entities.c.id).limit(per_page).offset(offset)
    )
    if filters.q or filters.district or filters.kind:
        rows = session.execute(page_query.add_columns(sa.func.count().over().label("total"))).all()
        if rows:
            total = rows[0].total
        else:
            counted = sa.select(sa.func.count()).select_from(_JOIN).where(*where)
            total = session.execute(counted).scalar_one() if offset else 0
    else:
        # Only the kept answer is filtered: count it alone (every answer has its roster row), not the join;
        # the page stops after its rows instead of visiting every match.
        total = session.execute(sa.select(sa.func.count()).select_from(kept_answers).where(*where)).scalar_one()
        rows = session.execute(page_query).all()
    return Page([_item(r) for r in rows], int(total), page, per_page)


def get(session: Session, credit_code: str) -> RegistryItem | None:
    """One entity of the registry; None for an unknown code or one that never held a title."""
    row = session.execute(
        sa.select(*_COLUMNS)
        .select_from(_JOIN)
        .where(
            entities.c.credit_code == credit_code.upper(),
            kept_answers.c.status.in_([s.value for s in PUBLIC_STATUSES]),
        )
    ).first()
    return _item(row) if row is not None else None


class Freshness:
    """Keeps the kept answer fresh for the registry's readers: what every registry request calls first.

    `kept.ensure_fresh` with the fingerprint computed once (settings and calendar are fixed for the life of a
    server; computing it costs milliseconds, more than the check itself), and one refresh at a time in this
    process: requests that find the answer out of date wait for the refresh in progress, then check again
    (a cache write, no data change), instead of evaluating the same entities side by side."""

    def __init__(self, calendar: WorkCalendar, rules: RuleSettings) -> None:
        from monitor import kept

        self.calendar, self.rules = calendar, rules
        self.fingerprint = kept.fingerprint(rules, calendar)
        self._lock = threading.Lock()

    def _due(self, db: Database, today: date) -> bool:
        from monitor import kept

        with db.engine.connect() as conn:  # a read of five index ends: no session, no transaction to commit
            return kept.needs_refresh(conn, today, self.fingerprint)

    def ensure(self, db: Database, today: date) -> None:
        if not self._due(db, today):
            return
        from monitor import kept

        with self._lock:
            if self._due(db, today):
                kept.refresh(db, today, self.calendar, self.rules)
