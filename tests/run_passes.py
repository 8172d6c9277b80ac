"""Run the suite's two passes — SQLite, then PostgreSQL — side by side (``make test``).

Each pass is its own pytest process with its own database (the suite makes one per run and
drops it afterwards), so they cannot see each other's rows; running them at the same time uses
the machine's second core and the time each spends waiting on disk, the network, gunicorn and
Chromium. Their output is streamed with a ``[sqlite]`` / ``[postgresql]`` prefix and kept whole
in ``test-artifacts/pytest-<db>.log``; the exit status is non-zero if either pass fails.

The browser tests run in the SQLite pass only (they test pages, not the database), and so do
``tests/analysis`` (pure statistics) and ``tests/instruments`` (instrument files), which open no
database. Without PostgreSQL the second pass is skipped with a warning, or fails the run when
``REQUIRE_POSTGRES`` is set (CI). ``SEQUENTIAL=1`` runs one pass after the other instead.

Usage: ``python tests/run_passes.py POSTGRES_URL [pytest args...]``
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "test-artifacts"
PG_ONLY_ARGS = ["-m", "not browser", "--ignore=tests/analysis", "--ignore=tests/instruments"]


def postgres_answers(url: str) -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    try:
        psycopg.connect(url.replace("+psycopg", ""), connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


class Pass:
    def __init__(self, name: str, database_url: str, args: list[str]) -> None:
        self.name = name
        self.log_path = LOGS / f"pytest-{name}.log"
        env = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
        self.began = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
        )
        self.elapsed = 0.0
        self._thread = threading.Thread(target=self._copy, daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        prefix = f"[{self.name}] "
        assert self.process.stdout is not None
        with self.log_path.open("w", encoding="utf-8") as log:
            for line in self.process.stdout:
                log.write(line)
                sys.stdout.write(prefix + line)
                sys.stdout.flush()

    def wait(self) -> int:
        code = self.process.wait()
        self._thread.join()
        self.elapsed = time.monotonic() - self.began
        return code


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    pg_url, extra = argv[0], argv[1:]
    LOGS.mkdir(exist_ok=True)
    sequential = os.environ.get("SEQUENTIAL", "") not in ("", "0")
    with_postgres = postgres_answers(pg_url)
    if not with_postgres:
        message = f"PostgreSQL does not answer at {pg_url}"
        if os.environ.get("REQUIRE_POSTGRES"):
            print(f"== {message}, and it is required (REQUIRE_POSTGRES) ==", flush=True)
            return 1
        print(f"== {message}: the PostgreSQL pass is NOT run ==", flush=True)
    else:
        print(f"== Running the suite on SQLite and on PostgreSQL ({pg_url}) ==", flush=True)

    passes: list[Pass] = []
    codes: dict[str, int] = {}
    passes.append(Pass("sqlite", "", extra))
    if sequential:
        codes["sqlite"] = passes[-1].wait()
    if with_postgres:
        passes.append(Pass("postgresql", pg_url, [*PG_ONLY_ARGS, *extra]))
    for p in passes:
        if p.name not in codes:
            codes[p.name] = p.wait()

    print(flush=True)
    for p in passes:
        verdict = "passed" if codes[p.name] == 0 else f"FAILED (exit {codes[p.name]})"
        print(f"== {p.name}: {verdict} in {p.elapsed:.0f} s; full log: {p.log_path} ==")
    return 0 if all(code == 0 for code in codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
