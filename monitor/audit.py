"""The audit trail (SPEC 8): every write, from the console, the command line or the daemon, leaves one row in
`audit_log` saying who, when, from where, the request or run it belonged to, and what it changed.

One place records it, whatever code does the writing: listeners on every SQLAlchemy `Session` note the tables
a transaction inserts into, updates or deletes from (ORM flushes and Core statements alike), and the commit
adds one audit row in the same transaction. A rolled-back transaction (a refused import, a dry run) leaves
none. Who is acting comes from `Actor`, set once per process or request: `cli:<system user>` by the command
line, `daemon:<host>` by the daemon, the user's name by the console (with the client's address and the
request's ID). Writes to caches (the kept answer) and to the job ledger are not audited: they change no data.
Nothing updates or deletes the audit rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, event, insert
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from monitor.actor import Actor, acting, current, doing, set_process_actor
from monitor.storage.console_models import AuditRow

__all__ = ["Actor", "acting", "current", "doing", "set_process_actor"]

AUDIT = cast(Table, AuditRow.__table__)
# Tables whose writes are no change of data: caches, the audit trail itself, the job ledger, staging tables.
NOT_AUDITED = frozenset({"audit_log", "kept_answers", "kept_findings", "registry_search", "job_runs"})
_STAGING_PREFIXES = ("import_", "tmp_", "_")
_KEY = "audit_changes"
_OPS = {"insert": "+", "update": "~", "delete": "-"}


def _audited(table: str) -> bool:
    return table not in NOT_AUDITED and not table.startswith(_STAGING_PREFIXES)


def _note(session: Session, table: str | None, op: str) -> None:
    if table and _audited(table):
        session.info.setdefault(_KEY, {}).setdefault(table, set()).add(op)


def _table_of(obj: Any) -> str | None:
    table = getattr(type(obj), "__tablename__", None)
    return table if isinstance(table, str) else None


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> Any:
    """A Core INSERT/UPDATE/DELETE run through a session: noted when it changed a row (one that matched or
    selected nothing is no write; a driver that cannot count, -1, counts as one). An INSERT ... RETURNING of
    many rows reports no useful row count, so it is noted as it is."""
    op = "insert" if state.is_insert else "update" if state.is_update else "delete" if state.is_delete else None
    if op is None:
        return None
    table = getattr(getattr(state.statement, "table", None), "name", None)
    if not table or not _audited(table):
        return None
    if op == "insert" and bool(getattr(state.statement, "_returning", None)):
        _note(state.session, table, op)
        return None
    result = state.invoke_statement()
    if getattr(result, "rowcount", -1) != 0:
        _note(state.session, table, op)
    return result


def _note_pending(session: Session) -> None:
    for obj in session.new:
        _note(session, _table_of(obj), "insert")
    for obj in session.dirty:
        if session.is_modified(obj):
            _note(session, _table_of(obj), "update")
    for obj in session.deleted:
        _note(session, _table_of(obj), "delete")


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    _note_pending(session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    _note_pending(session)
    changes: dict[str, set[str]] = session.info.pop(_KEY, {})
    if not changes:
        return
    actor = current()
    what = "; ".join(
        f"{table} {''.join(_OPS[op] for op in ('insert', 'update', 'delete') if op in ops)}"
        for table, ops in sorted(changes.items())
    )
    session.execute(
        insert(AUDIT).values(
            # The command's or request's clock reading; the daemon's writes are stamped as they commit.
            at=actor.at or datetime.now(UTC),
            actor=actor.who[:120],
            origin=actor.origin[:120],
            request_id=actor.request_id[:64],
            action=actor.action or "-",
            changes=what,
        )
    )


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)
