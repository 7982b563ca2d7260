"""Worker processes for CPU-bound work that splits into independent tasks (a large refresh of the kept answer).

The rules are pure Python: one process evaluates on one CPU whatever its threads, so a full sweep at 100,000
entities uses other processes to use the machine's other CPUs. Each worker is `python -m monitor.workers`, a
fresh interpreter fed by two pipes: it is never forked from the daemon or the server (which run threads) and,
unlike multiprocessing's spawn, never imports the caller's main module again (a script without the
`if __name__ == "__main__"` guard would re-run its top level in every worker).

Protocol (pickle, trusted both ways: the parent started the child): the parent writes `(setup, setup_args)`,
then one `(k, args)` per task; the worker calls `setup(*setup_args)` once and answers each task with
`(k, "ok", fn(*args))` or `(k, "error", text)`. A closed stdin ends it. Its stdout is the pipe, so anything
the work prints goes to stderr, like its log lines.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import IO, Any

log = logging.getLogger(__name__)


def _ref(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


def _resolve(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    target: Any = import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target  # type: ignore[no-any-return]


def run(
    setup: Callable[..., None],
    setup_args: tuple[Any, ...],
    fn: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    procs: int,
    on_result: Callable[[int, Any], None],
) -> set[int]:
    """Run `fn(*tasks[k])` in `procs` worker processes (after `setup(*setup_args)` in each), calling
    `on_result(k, result)` in this process as results come, one call at a time. Returns the indexes done.

    A task that raised, or a worker that died, is logged and left out of the answer: the caller does what is
    missing itself. `fn` and `setup` must be module-level functions (they are sent by name)."""
    pending = list(range(len(tasks)))
    pending.reverse()
    done: set[int] = set()
    lock = threading.Lock()

    def next_task() -> int | None:
        with lock:
            return pending.pop() if pending else None

    def drive() -> None:
        cmd = [sys.executable, "-m", "monitor.workers"]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        except OSError as exc:
            log.warning("worker process could not start: %s", exc)
            return
        assert proc.stdin is not None and proc.stdout is not None
        try:
            _send(proc.stdin, (_ref(setup), setup_args, _ref(fn)))
            while (k := next_task()) is not None:
                _send(proc.stdin, (k, tasks[k]))
                got, outcome, value = pickle.load(proc.stdout)
                if outcome != "ok":
                    log.warning("worker task %d failed: %s", got, value)
                    continue
                with lock:
                    on_result(got, value)
                    done.add(got)
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            log.warning("worker process %d stopped: %s", proc.pid, type(exc).__name__)
        finally:
            with contextlib.suppress(OSError):
                proc.stdin.close()
            try:
                code = proc.wait(timeout=60)  # it ends at the end of its input
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            if code != 0:
                log.warning("worker process %d exited with %s", proc.pid, code)

    threads = [threading.Thread(target=drive, name=f"worker-{i}", daemon=True) for i in range(procs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done


def _send(stream: IO[bytes], message: Any) -> None:
    pickle.dump(message, stream, protocol=pickle.HIGHEST_PROTOCOL)
    stream.flush()


def main() -> int:
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # the pipe is for answers only
    try:
        setup_ref, setup_args, fn_ref = pickle.load(inp)
    except EOFError:
        return 0
    _resolve(setup_ref)(*setup_args)
    fn = _resolve(fn_ref)
    while True:
        try:
            k, args = pickle.load(inp)
        except EOFError:
            return 0
        try:
            answer = (k, "ok", fn(*args))
        except Exception as exc:  # reported to the parent, which does the task itself
            log.exception("worker task %d failed", k)
            answer = (k, "error", f"{type(exc).__name__}: {exc}")
        _send(out, answer)


if __name__ == "__main__":
    raise SystemExit(main())
