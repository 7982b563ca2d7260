"""The embedded default: each message becomes an .eml file, so the product runs without a mail server.

The file name comes from the outbox key, and a file is written under a temporary name and then renamed, so a
reader never sees half a message and writing the same message again replaces it instead of adding a copy.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

from notifications.channels.base import Channel, DeliveryError, Outgoing


def eml_name(msg: Outgoing) -> str:
    digest = hashlib.sha256(msg.key.encode("utf-8")).hexdigest()[:16]
    return f"{msg.as_of.isoformat()}_{msg.kind}_{digest}.eml"


class FileChannel(Channel):
    name = "file"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path_for(self, msg: Outgoing) -> Path:
        return self.directory / eml_name(msg)

    def send_each(self, messages: Sequence[Outgoing], now: datetime) -> Iterator[DeliveryError | None]:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            error = DeliveryError(f"cannot create {self.directory}: {exc.strerror}")
            yield from (error for _ in messages)
            return
        for msg in messages:
            yield self._write(msg)

    def _write(self, msg: Outgoing) -> DeliveryError | None:
        target = self.path_for(msg)
        try:
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(msg.content)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            # A full disk or a permission problem may be fixed by the operator: retry later.
            return DeliveryError(f"cannot write {target}: {exc.strerror}")
        return None
