"""Many rows through the database driver's own `executemany`, for the few hot bulk writes (the kept answer).

SQLAlchemy builds the parameters of each row of an executemany one by one (`construct_params` and the type
processors, about 20 µs a row): for the 100,000 answers and findings of a full sweep that is more than the
writing itself (benchmarks/sweep.py). Here the statement is compiled once for the connection's dialect, the
bind processors of its parameters (dates as text on SQLite, the UTC timestamp type) are looked up once, and
the rows go to the driver as they are. The SQL is SQLAlchemy's own: the same placeholders, casts and types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable


def executemany(conn: Connection, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run `statement` (whose parameters are `bindparam`s named as the keys of each row) once per row."""
    if not rows:
        return
    dialect = conn.dialect
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    processors: dict[str, Callable[[Any], Any]] = {}
    for name, bind in compiled.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors[name] = process
    sql = str(compiled)
    params: list[Any]
    if compiled.positional:
        order = list(compiled.positiontup)
        pick = itemgetter(*order)
        # A processor is a pure function of the value, and a column's values repeat (the same as-of date, the
        # same timestamp in every row): each distinct value is converted once.
        convert: list[tuple[int, Callable[[Any], Any], dict[Any, Any]]] = [
            (i, processors[n], {}) for i, n in enumerate(order) if n in processors
        ]
        params = []
        for row in rows:
            values = list(pick(row)) if len(order) > 1 else [row[order[0]]]
            for i, process, seen in convert:
                value = values[i]
                try:
                    values[i] = seen[value]
                except KeyError:
                    values[i] = seen[value] = process(value)
                except TypeError:  # not hashable
                    values[i] = process(value)
            params.append(tuple(values))
    else:
        params = [{n: (processors[n](v) if n in processors else v) for n, v in r.items()} for r in rows]
    conn.exec_driver_sql(sql, params)


def fetch_tuples(conn: Connection, statement: Executable) -> list[tuple[Any, ...]]:
    """All rows of a SELECT as the driver's own tuples, without SQLAlchemy's result processing.

    For the bulk reads of a sweep (some 700,000 filing rows at 100,000 entities): SQLAlchemy's row objects
    cost about 1 µs a row over the driver's tuples, a third of reading the filings. The columns must need no
    result processing (`type_coerce(..., String)` for dates, plain strings and integers): values come as the
    driver gives them (dates as text on SQLite, as dates on PostgreSQL)."""
    result = conn.execute(statement)
    try:
        cursor = result.cursor
        if cursor is None:  # an already buffered result (not one of ours): take it the usual way
            return [tuple(r) for r in result.all()]
        return list(cursor.fetchall())
    finally:
        result.close()


def run_prepared(conn: Connection, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
    """All rows of `sql` (in the driver's own parameter style) on the connection's driver cursor: on PostgreSQL
    as a prepared statement, planned once per connection (the registry's and the freshness check's
    statements are fixed text: planning was two thirds of the freshness check, 0.66 ms against 0.21 ms).
    For statements run on every request, compiled once by the caller."""
    cursor: Any = conn.connection.cursor()  # the driver's own (psycopg's takes `prepare`)
    try:
        if conn.dialect.name == "postgresql":
            cursor.execute(sql, args, prepare=True)
        elif args is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def connection_of(db: Session | Connection) -> Connection:
    """The connection a session works on, or the connection itself."""
    return db.connection() if isinstance(db, Session) else db


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters, in order for a positional driver (SQLite), else by name
    positional: bool
    defaults: dict[str, Any]  # the values compiled in (an IN list of constants, a LIMIT)


_COMPILED: dict[tuple[Any, ...], _Compiled] = {}


def run_compiled(
    conn: Connection, key: tuple[Any, ...], build: Callable[[], Executable], values: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Rows of the statement `build()` makes, compiled once per dialect and `key` (which must name everything
    that changes the SQL), run with `values` for its named parameters (`run_prepared`).

    For statements run on every request (the freshness check, the registry's queries): the query takes a
    fraction of a millisecond, and building the statement, compiling it (or finding it in SQLAlchemy's cache)
    and making row objects of the answer cost several times that (benchmarks/registry.py)."""
    dialect = conn.dialect
    entry = _COMPILED.get((dialect.name, *key))
    if entry is None:
        compiled = build().compile(dialect=dialect, compile_kwargs={"render_postcompile": True})  # type: ignore[attr-defined]
        params = compiled.construct_params()  # keyed by the names as rendered (IN lists expanded)
        names = tuple(compiled.positiontup) if compiled.positional else tuple(params)
        entry = _Compiled(str(compiled), names, bool(compiled.positional), {n: params[n] for n in names})
        _COMPILED[(dialect.name, *key)] = entry
    merged = {**entry.defaults, **{n: v for n, v in values.items() if n in entry.defaults}}
    args: Any = tuple(merged[n] for n in entry.names) if entry.positional else merged
    return run_prepared(conn, entry.sql, args if entry.names else None)
