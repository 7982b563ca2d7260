"""A PostgreSQL database that goes away and comes back for one test (or one fault of the campaign) only.

The test's database is a fresh schema owned by a fresh role. `terminate()` ends that role's connections
(`pg_terminate_backend`: the client sees `AdminShutdown`, as in a server restart); `outage()` also refuses
the role's new connections (NOLOGIN) until `back()`. Other tests on the same server see nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url


class PgOutage:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.name = f"t_{uuid.uuid4().hex[:12]}"
        self.admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE ROLE "{self.name}" LOGIN'))
            conn.execute(sa.text(f'CREATE SCHEMA "{self.name}" AUTHORIZATION "{self.name}"'))
        url = make_url(base_url).set(username=self.name)
        self.url = url.update_query_dict({"options": f"-csearch_path={self.name}"}).render_as_string(
            hide_password=False
        )

    def terminate(self) -> int:
        """End every connection of the role now; how many there were."""
        with self.admin.connect() as conn:
            return len(
                conn.execute(
                    sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :name"),
                    {"name": self.name},
                ).all()
            )

    def outage(self) -> None:
        """The database stops answering: new connections refused, open ones ended."""
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'ALTER ROLE "{self.name}" NOLOGIN'))
        self.terminate()

    def back(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'ALTER ROLE "{self.name}" LOGIN'))

    def drop(self) -> None:
        self.back()
        self.terminate()
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{self.name}" CASCADE'))
            conn.execute(sa.text(f'DROP ROLE "{self.name}"'))
        self.admin.dispose()


@contextmanager
def pg_outage(base_url: str) -> Iterator[PgOutage]:
    pg = PgOutage(base_url)
    try:
        yield pg
    finally:
        pg.drop()
