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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor.config import RuleSettings
from monitor.domain import Kind, Status
from monitor.legal_time import WorkCalendar
from monitor.storage import driver
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


def _like_pattern(fragment: str) -> str:
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _ascii_upper(text: str) -> str:
    return "".join(c.upper() if c.isascii() else c for c in text)


def _fts_phrase(fragment: str) -> str:
    return '"' + fragment.replace('"', '""') + '"'


def _text_values(q: str) -> dict[str, str]:
    """The parameters of `text_condition` for `q`, by name (a condition uses some of them)."""
    code = q.upper() if _CODE_CHARS.match(q) else ""  # a credit code has only digits and capitals
    return {
        "q_like": _like_pattern(q),
        "q_gram": _ascii_upper(q),
        "q_phrase": "name : " + _fts_phrase(q),
        "q_code_like": _like_pattern(code),
        "q_code_low": code,
        "q_code_high": code + "~",
    }


def _text_shape(q: str) -> tuple[int, bool, bool]:
    """What decides the SQL of `text_condition` (the rest are parameters): the length class, whether `q`
    could be part of a credit code, whether it has a Latin letter to fold."""
    size = 1 if len(q) < 2 else 2 if len(q) == 2 else TRIGRAM
    return size, bool(_CODE_CHARS.match(q)), any(c.isascii() and c.isalpha() for c in q)


def text_condition(dialect: str, q: str) -> sa.ColumnElement[bool]:
    """Rows whose name or credit code contains `q` (case ignored for Latin letters, so in codes).

    Its parameters are named (`_text_values`), so a statement that uses it can be compiled once for each
    `_text_shape` and run with another fragment's values."""
    values = _text_values(q)
    size, is_code, cased = _text_shape(q)

    def p(name: str) -> sa.BindParameter[str]:
        return sa.bindparam(name, values[name], type_=sa.String)

    if size == 2:  # the names' bigrams; a two-character code fragment is in most codes: scan them
        pairs = sa.select(bigrams.c.entity_id).where(bigrams.c.gram == p("q_gram"))
        if not is_code:
            return entities.c.id.in_(pairs)
        codes = sa.select(entities.c.id).where(entities.c.credit_code.like(p("q_code_like")))
        return entities.c.id.in_(sa.union(pairs, codes))
    if size == 1:
        # No index serves one character: a scan of the names (and the codes), see the module's text.
        if dialect == "sqlite":  # SQLite's LIKE ignores ASCII case
            name = entities.c.name.like(p("q_like"), escape="\\")
            code_hit = entities.c.credit_code.like(p("q_code_like"), escape="\\")
        else:  # PostgreSQL's default LIKE escape is the backslash
            name = entities.c.name.ilike(p("q_like")) if cased else entities.c.name.like(p("q_like"))
            code_hit = entities.c.credit_code.like(p("q_code_like"))
        return sa.or_(name, code_hit) if is_code else name
    hits: list[sa.Select[Any]] = []
    if dialect == "sqlite":  # FTS5 trigram: case-insensitive phrase inside the name
        match = sa.literal_column("registry_search").op("MATCH")(p("q_phrase"))
        hits.append(sa.select(registry_search.c.rowid).where(match))
    else:  # the pg_trgm GIN index on entities.name serves LIKE and ILIKE
        name = entities.c.name.ilike(p("q_like")) if cased else entities.c.name.like(p("q_like"))
        hits.append(sa.select(entities.c.id).where(name))
    if is_code:  # a suffix of the code starts with the fragment
        suffix = code_suffixes.c.suffix
        hits.append(sa.select(code_suffixes.c.entity_id).where(suffix >= p("q_code_low"), suffix < p("q_code_high")))
    return entities.c.id.in_(hits[0] if len(hits) == 1 else sa.union(*hits))


# Every query below is compiled once per dialect and shape of filters, with named parameters, and run on
# the driver with the request's values (`driver.run_compiled`).


def _run(conn: sa.Connection, key: tuple[Any, ...], build: Any, values: dict[str, Any]) -> list[Any]:
    return driver.run_compiled(conn, ("registry", *key), build, values)


def _day(value: Any) -> date | None:
    """A date column as the driver hands it back: text on SQLite, a date on PostgreSQL."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _item(row: Sequence[Any]) -> RegistryItem:
    code, name, kind, district, cert_no, certified_on, expires_on, status = row[:8]
    return RegistryItem(
        credit_code=code,
        name=name,
        kind=Kind(kind),
        district=district,
        cert_no=cert_no or "",
        certified_on=_day(certified_on),
        expires_on=_day(expires_on),
        status=Status(status),
    )


def _where(dialect: str, filters: Filters, *, by_status_index: bool = False) -> list[sa.ColumnElement[bool]]:
    """The conditions of `filters`. On SQLite the status is compared as `+kept_answers.status` (which no index
    serves) unless `by_status_index`: the index on (status, credit_code) covers the status, so SQLite would
    drive a page from it, visit every public entity (90,000 of 100,000) and sort them by id, where walking
    the roster in id order stops after the page's 50 rows (0.33 s against 0.1 ms). Counting by status alone
    is what that index is for."""
    status: Any = kept_answers.c.status
    if dialect == "sqlite" and not by_status_index:
        status = sa.literal_column("+kept_answers.status", sa.String)
    where: list[sa.ColumnElement[bool]] = [status.in_([s.value for s in PUBLIC_STATUSES])]
    if filters.q:
        where.append(text_condition(dialect, filters.q))
    if filters.district:
        where.append(entities.c.district == sa.bindparam("district", filters.district, type_=sa.String))
    if filters.kind:
        where.append(entities.c.kind == sa.bindparam("kind", filters.kind.value, type_=sa.String))
    if filters.status:
        where.append(status == sa.bindparam("status", filters.status.value, type_=sa.String))
    return where


def search(db: Session | sa.Connection, filters: Filters, page: int, per_page: int) -> Page:
    """One page of the registry and the number of entities that match, in roster order (`entities.id`: stable
    across pages, and the order in which both search indexes hand out their matches).

    With a search text or a filter on the roster, the page's rows carry the count (`count(*) OVER ()`): the
    index is searched once, not once to count and once for the page. Only a page past the last one asks for
    the count separately."""
    conn = driver.connection_of(db)
    dialect = conn.dialect.name
    offset = (page - 1) * per_page
    shape = (
        _text_shape(filters.q) if filters.q else None,
        bool(filters.district),
        bool(filters.kind),
        bool(filters.status),
    )
    values: dict[str, Any] = {
        **(_text_values(filters.q) if filters.q else {}),
        "district": filters.district,
        "kind": filters.kind.value if filters.kind else None,
        "status": filters.status.value if filters.status else None,
        "page_limit": per_page,
        "page_offset": offset,
    }

    def page_query() -> sa.Select[Any]:
        return (
            sa.select(*_COLUMNS)
            .select_from(_JOIN)
            .where(*_where(dialect, filters))
            .order_by(entities.c.id)
            .limit(sa.bindparam("page_limit", per_page, type_=sa.Integer))
            .offset(sa.bindparam("page_offset", offset, type_=sa.Integer))
        )

    def counted() -> sa.Select[Any]:
        return sa.select(sa.func.count()).select_from(_JOIN).where(*_where(dialect, filters))

    if filters.q or filters.district or filters.kind:
        build = lambda: page_query().add_columns(sa.func.count().over().label("total"))  # noqa: E731
        rows = _run(conn, ("page+count", *shape), build, values)
        if rows:
            total = rows[0][8]
        elif offset:  # past the last page: nothing carried the count
            total = _run(conn, ("count", *shape), counted, values)[0][0]
        else:
            total = 0
    else:
        # Only the kept answer is filtered: count it alone (every answer has its roster row), not the join;
        # the page stops after its rows instead of visiting every match.
        def count_kept() -> sa.Select[Any]:
            where = _where(dialect, filters, by_status_index=True)
            return sa.select(sa.func.count()).select_from(kept_answers).where(*where)

        total = _run(conn, ("count kept", *shape), count_kept, values)[0][0]
        rows = _run(conn, ("page", *shape), page_query, values)
    return Page([_item(r) for r in rows], int(total), page, per_page)


def get(db: Session | sa.Connection, credit_code: str) -> RegistryItem | None:
    """One entity of the registry; None for an unknown code or one that never held a title."""

    def one() -> sa.Select[Any]:
        return (
            sa.select(*_COLUMNS)
            .select_from(_JOIN)
            .where(
                entities.c.credit_code == sa.bindparam("code", "", type_=sa.String),
                kept_answers.c.status.in_([s.value for s in PUBLIC_STATUSES]),
            )
        )

    rows = _run(driver.connection_of(db), ("get",), one, {"code": credit_code.upper()})
    return _item(rows[0]) if rows else None


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

    def _due(self, db: Database, today: date, conn: sa.Connection | None = None) -> bool:
        from monitor import kept

        if conn is not None:
            return kept.needs_refresh(conn, today, self.fingerprint)
        with db.engine.connect() as own:  # a read of five index ends: no session, no transaction to commit
            return kept.needs_refresh(own, today, self.fingerprint)

    def ensure(self, db: Database, today: date, conn: sa.Connection | None = None) -> None:
        """`conn`: the request's own connection, to check on (one checkout a request: on PostgreSQL each
        checkout pings the server first). A refresh, when one is due, runs on connections of its own."""
        if not self._due(db, today, conn):
            return
        from monitor import kept

        with self._lock:
            if self._due(db, today):
                kept.refresh(db, today, self.calendar, self.rules)
