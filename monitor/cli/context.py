"""What every command gets: settings, the database, the calendar and the one clock reading of the run."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from monitor.errors import UsageError as UsageError

if TYPE_CHECKING:  # imported when first used, so that `--help` and the parser start without them
    from monitor import config
    from monitor.legal_time import WorkCalendar
    from monitor.storage.db import Database


class Context:
    """A plain class, not a dataclass: the dataclasses module (and inspect, ast...) would cost `--help` time."""

    def __init__(self, args: argparse.Namespace, now: datetime | None = None) -> None:
        self.args = args
        # The clock is read here, once per command, and passed down; nothing below reads it again.
        self.now = now if now is not None else datetime.now(UTC)

    @cached_property
    def settings(self) -> config.Settings:
        from monitor import config

        return config.load(getattr(self.args, "config", None))

    @cached_property
    def db(self) -> Database:
        from monitor.storage.db import Database  # SQLAlchemy is imported by the commands that use a database

        return Database(self.settings.database_url)

    def checked_db(self) -> Database:
        """The database, after making sure its schema is current (else SchemaError: run `db upgrade`)."""
        self.db.check_schema()
        return self.db

    @cached_property
    def calendar(self) -> WorkCalendar:
        from monitor.legal_time import WorkCalendar

        return WorkCalendar.load(self.settings.holidays_file)

    @property
    def today(self) -> date:
        from monitor.legal_time import legal_today

        return legal_today(self.now)

    def as_of(self) -> date:
        """`--as-of` if given, else today in Asia/Shanghai."""
        value = getattr(self.args, "as_of", None)
        return value if value is not None else self.today


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text) if len(text) == 10 else _bad_date(text)
    except ValueError:
        return _bad_date(text)


def _bad_date(text: str) -> date:
    raise argparse.ArgumentTypeError(f"不是有效日期 YYYY-MM-DD (not a date): {text!r}")
