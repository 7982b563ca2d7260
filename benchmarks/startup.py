"""Benchmark: how long `sme-monitor --help` and `sme-monitor entities show CODE` take to start, against
`python -c pass` measured in the same run (the yardstick: the interpreter's own start-up).

    .venv/bin/python benchmarks/startup.py [--runs 20]

Each command runs `--runs` times, interleaved (pass, --help, show, pass, ...) so a machine whose speed drifts
drifts for all three; wall time from perf_counter around the process, CPU time (user + sys) from the
children's rusage. Printed: min and median of each, and for each command its median ratio and difference
against `python -c pass`. Goal (issue 11): `--help` within 0.25 s of `python -c pass`.

It also lists the heavy modules each command imported (none for `--help`): SQLAlchemy, Alembic, openpyxl,
Jinja2, APScheduler, aiosmtplib, requests, chinesecalendar.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("sqlalchemy", "alembic", "openpyxl", "jinja2", "apscheduler", "aiosmtplib", "requests", "chinese_calendar")
CODE = "91510100MA6CA00016"
# Runs a command's main() and reports which heavy modules it left imported (stdout is the command's).
PROBE = (
    "import sys, runpy\n"
    "sys.argv = ['sme-monitor', *sys.argv[1:]]\n"
    "try:\n"
    "    from monitor.cli import main\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
    "print('HEAVY', ' '.join(heavy) or '-', file=sys.stderr)\n"
)


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    cpu, started = cpu_of_children(), time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started, cpu_of_children() - cpu


def heavy_modules(args: list[str], env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, check=True)
    return next(line[6:] for line in out.stderr.splitlines() if line.startswith("HEAVY "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    script = Path(sys.executable).with_name("sme-monitor")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp, "monitor.toml")
        config.write_text(f'[database]\nurl = "sqlite:///{tmp}/monitor.db"\n', encoding="utf-8")
        roster = Path(tmp, "roster.csv")
        roster.write_text(f"credit_code,name,kind,district,certified_on\n{CODE},成都甲平台,平台,锦江区,2024-03-15\n")
        env = {**os.environ, "SME_MONITOR_CONFIG": str(config)}
        for setup in (["db", "upgrade"], ["entities", "import", str(roster), "--by", "bench"]):
            subprocess.run([str(script), *setup], env=env, capture_output=True, check=True)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "sme-monitor --help": [str(script), "--help"],
            f"sme-monitor entities show {CODE}": [str(script), "entities", "show", CODE],
        }
        for cmd in commands.values():  # warm the file cache
            run(cmd, env)
        wall: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, cmd in commands.items():
                w, c = run(cmd, env)
                wall[name].append(w)
                cpu[name].append(c)
        heavy = {
            "sme-monitor --help": heavy_modules(["--help"], env),
            f"sme-monitor entities show {CODE}": heavy_modules(["entities", "show", CODE], env),
        }
    base_wall, base_cpu = statistics.median(wall["python -c pass"]), statistics.median(cpu["python -c pass"])
    print(
        f"start-up, {args.runs} runs each, interleaved; python {sys.version.split()[0]}, load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'command':<44} {'wall min':>9} {'median':>8} {'cpu min':>8} {'median':>8} {'ratio':>6} {'+wall':>7} {'+cpu':>7}"
    )
    for name in commands:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        print(
            f"{name:<44} {min(wall[name]):>8.3f}s {w:>7.3f}s {min(cpu[name]):>7.3f}s {c:>7.3f}s "
            f"{w / base_wall:>5.1f}x {w - base_wall:>+6.3f}s {c - base_cpu:>+6.3f}s"
        )
    for name, modules in heavy.items():
        print(f"heavy modules imported by {name}: {modules}")
    help_gap = statistics.median(wall["sme-monitor --help"]) - base_wall
    print(
        f"goal: --help within 0.25 s of python -c pass: {'met' if help_gap <= 0.25 else 'NOT met'} ({help_gap:+.3f} s)"
    )


if __name__ == "__main__":
    main()
