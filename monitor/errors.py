"""The errors the command line turns into exit statuses, in a module that imports nothing, so the command line
can name them before (or without) importing the parts that raise them.

`ConfigError` and `CalendarError` are also reachable as `monitor.config.ConfigError` and
`monitor.legal_time.CalendarError`, `SchemaError` as `monitor.storage.SchemaError`.
"""

from __future__ import annotations

# Where `--config` is read from when it is not given (monitor.config reads the same name).
CONFIG_ENV = "SME_MONITOR_CONFIG"


class UsageError(Exception):
    """Bad input on the command line or in a file: exit status 2."""


class ConfigError(Exception):
    """A configuration problem, worded for the operator: which key, which value, why."""


class CalendarError(Exception):
    """The operator's holidays file is unreadable or inconsistent; the message names file, year and date."""


class SchemaError(Exception):
    """The database is empty or behind the code: the operator must run `sme-monitor db upgrade`."""
