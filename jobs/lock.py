"""One daemon per SQLite file: an exclusive lock on a file beside the database, held for the process's life.

SQLite serves one writer at a time and has no row leases worth the name, so several daemons are supported
on PostgreSQL only. The kernel drops an fcntl lock when its process dies, even by SIGKILL, so a crash never
leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url


class AlreadyRunning(Exception):
    """Another daemon holds the lock of this SQLite database."""


def lock_path(database_url: str) -> Path | None:
    """The lock file of a SQLite database file; None for PostgreSQL or an in-memory database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    db_file = Path(url.database)
    return db_file.with_name(db_file.name + ".lock")


class ProcessLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise AlreadyRunning(
                f"另一个守护进程 (pid {holder}) 正在使用该 SQLite 数据库；SQLite 只支持一个守护进程，"
                f"多个守护进程请使用 PostgreSQL (another daemon, pid {holder}, holds {self.path}: "
                "SQLite supports one daemon; use PostgreSQL to run several)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ProcessLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
