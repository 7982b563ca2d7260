"""How far long work is: a progress bar on stderr when it is a terminal, else one log line per stage.

    for row in progress(rows, total=len(rows), label="导入名册"):
        ...

    with stage("全量检查 (check --full)", total=n) as advance:
        for chunk in chunks:
            ...
            advance(len(chunk))

The bar is tqdm's (imported only when a terminal shows it, so commands start without it); it is cleared when
the stage ends. Without a terminal (the daemon under systemd, a pipe, a test) nothing is drawn and the stage ends
with one INFO line: `label: N unit, X.X s`. Nothing here reads data or writes anything but stderr.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def is_terminal(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stderr
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


@contextmanager
def stage(
    label: str, total: int | None = None, *, unit: str = "项", terminal: bool | None = None, quiet: bool = False
) -> Iterator[Callable[[int], None]]:
    """A stage of long work; the context gives `advance(n)` to call as items are done. `terminal` overrides
    the detection (None: whether stderr is a terminal); `quiet`: no log line (the caller logs its own)."""
    started = time.perf_counter()
    done = 0
    bar = None
    if is_terminal() if terminal is None else terminal:
        from tqdm import tqdm

        bar = tqdm(
            total=total, desc=label, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True, mininterval=0.2
        )

    def advance(n: int = 1) -> None:
        nonlocal done
        done += n
        if bar is not None:
            bar.update(n)

    try:
        yield advance
    except BaseException:
        log.info("%s: 中止于 %d %s (stopped), %.1f s", label, done, unit, time.perf_counter() - started)
        raise
    else:
        if not quiet:
            log.info("%s: %d %s, %.1f s", label, done, unit, time.perf_counter() - started)
    finally:
        if bar is not None:
            bar.close()


def progress(
    iterable: Iterable[T], total: int | None = None, label: str = "", *, unit: str = "项", terminal: bool | None = None
) -> Iterator[T]:
    """The items of `iterable`, counted as they are taken (`total` for the bar's length, if known)."""
    with stage(label, total, unit=unit, terminal=terminal) as advance:
        for item in iterable:
            yield item
            advance(1)
