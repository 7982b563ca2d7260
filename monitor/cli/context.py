"""What every command gets: settings, the database, the calendar and the one clock reading of the run."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property

from monitor import config
from monitor.legal_time import WorkCalendar, legal_today
from monitor.storage.db import Database


class UsageError(Exception):
    """Bad input on the command line or in a file: exit status 2."""


@dataclass
class Context:
    args: argparse.Namespace
    # The clock is read here, once per command, and passed down; nothing below reads it again.
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @cached_property
    def settings(self) -> config.Settings:
        return config.load(getattr(self.args, "config", None))

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.database_url)

    def checked_db(self) -> Database:
        """The database, after making sure its schema is current (else SchemaError: run `db upgrade`)."""
        self.db.check_schema()
        return self.db

    @cached_property
    def calendar(self) -> WorkCalendar:
        return WorkCalendar.load(self.settings.holidays_file)

    @property
    def today(self) -> date:
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
