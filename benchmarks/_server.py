"""Scratch databases and a gunicorn server the benchmarks and ``tests/test_faults.py`` drive.

- scratch databases (an SQLite file, or a PostgreSQL database created and dropped, loopback only)
  migrated with ``relhealth db upgrade`` as an operator would;
- a gunicorn server started from the project's ``gunicorn.conf.py``, which we can
  kill -9 (one worker, or master and workers) and start again, and its access log's times;
- the CPU seconds spent by that server and by PostgreSQL for it, and the machine it ran on.
"""

from __future__ import annotations

import http.client
import os
import platform
import random
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # only loopback: the harness refuses any other address
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# ------------------------------------------------------------------ databases


def postgres_admin_url(explicit: str | None = None) -> str:
    """The PostgreSQL server to create scratch databases on (loopback only)."""
    from sqlalchemy.engine import make_url

    from survey_app.config import normalise_database_url

    env = os.environ.get("DATABASE_URL", "")
    url = explicit or (env if env.startswith(("postgres://", "postgresql")) else "")
    url = normalise_database_url(url or DEFAULT_POSTGRES_URL)
    host = make_url(url).host or "localhost"
    if host not in LOOPBACK:
        raise SystemExit(f"refusing to use PostgreSQL at {host!r}: only loopback is allowed")
    return url


@contextmanager
def scratch_database(kind: str, workdir: Path, admin_url: str | None = None) -> Iterator[str]:
    """A fresh, empty database; dropped (PostgreSQL) or left in ``workdir`` (SQLite)."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'relhealth-bench.sqlite3'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(postgres_admin_url(admin_url))
    name = f"relhealth_bench_{secrets.token_hex(6)}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def venv_tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise SystemExit(f"{name} not found beside {sys.executable}: run inside the project venv")
    return str(path)


def server_environment(database_url: str, instance: Path, secret_key: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=secret_key,
        RELHEALTH_INSTANCE_PATH=str(instance),
        PYTHONUNBUFFERED="1",
    )
    return env


def migrate(database_url: str, instance: Path, secret_key: str) -> None:
    """``relhealth db upgrade`` on the scratch database, as an operator would run it."""
    done = subprocess.run(
        [venv_tool("relhealth"), "db", "upgrade"],
        cwd=ROOT,
        env=server_environment(database_url, instance, secret_key),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"relhealth db upgrade failed:\n{done.stdout}\n{done.stderr}")


# ------------------------------------------------------------------ the server


# Every gunicorn a test or benchmark starts: no control socket (gunicorn 25.1+ otherwise binds
# $HOME/.gunicorn/gunicorn.ctl, the same path for every server, so parallel runs take it from
# each other; nothing here uses gunicornc).
TEST_GUNICORN_ARGS = ("--no-control-socket",)

ACCESS_TIME = re.compile(r'^\[[^\]]+\] "[A-Z]+ [^"]*" \d{3} \S+ (\d+)ms$', re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class GunicornServer:
    """gunicorn with the project's ``gunicorn.conf.py``, in its own session, killable."""

    def __init__(
        self,
        app_spec: str,
        env: dict[str, str],
        log_path: Path,
        *,
        workers: int = 4,
        port: int | None = None,
    ) -> None:
        self.app_spec = app_spec
        self.workers = workers
        self.port = port or free_port()
        self.env = dict(env, GUNICORN_BIND=f"{HOST}:{self.port}", GUNICORN_WORKERS=str(workers))
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout: float = 240.0) -> float:
        """Start, and return once every worker answers ``/healthz`` (seconds taken)."""
        began = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    venv_tool("gunicorn"),
                    "-c",
                    str(ROOT / "gunicorn.conf.py"),
                    *TEST_GUNICORN_ARGS,
                    self.app_spec,
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.log_tail()}")
            if len(self.worker_pids()) >= self.workers and self._healthy():
                return time.monotonic() - began
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not become ready in {timeout:.0f} s:\n{self.log_tail()}")

    def _healthy(self) -> bool:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def worker_pids(self) -> list[int]:
        import psutil

        if self.proc is None or self.proc.poll() is not None:
            return []
        try:
            return [child.pid for child in psutil.Process(self.proc.pid).children()]
        except psutil.NoSuchProcess:
            return []

    def kill_worker(self, rng: random.Random) -> int:
        """kill -9 one worker (the master will start a replacement)."""
        pid = rng.choice(self.worker_pids())
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_all(self) -> list[int]:
        """kill -9 the master and every worker, and wait until they are gone."""
        import psutil

        assert self.proc is not None
        pids = [self.proc.pid, *self.worker_pids()]
        procs = []
        for pid in pids:
            try:
                procs.append(psutil.Process(pid))
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, psutil.NoSuchProcess):
                pass
        self.proc.wait(timeout=30)
        psutil.wait_procs(procs, timeout=30)
        return pids

    def stop(self) -> None:
        """Quick stop (SIGINT to the master), then kill -9 whatever is left."""
        import psutil

        if self.proc is None or self.proc.poll() is not None:
            return
        children = []
        with suppress(psutil.NoSuchProcess):
            children = psutil.Process(self.proc.pid).children()
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill_all()
        _, alive = psutil.wait_procs(children, timeout=10)
        for child in alive:
            child.kill()

    def log_mark(self) -> int:
        """Where the log ends now: ``service_times`` reads what comes after."""
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def service_times(self, mark: int = 0) -> list[float]:
        """Seconds each request spent inside a worker (the access log's ``%(M)s``),
        i.e. without the time it queued for a free worker."""
        with open(self.log_path, "rb") as log:
            log.seek(mark)
            text = log.read().decode("utf-8", "replace")
        return [int(ms) / 1000 for ms in ACCESS_TIME.findall(text)]

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_count(self, needle: str) -> int:
        try:
            return self.log_path.read_text(errors="replace").count(needle)
        except OSError:
            return 0


class CpuMeter:
    """CPU seconds spent by a gunicorn server and, on PostgreSQL, by the server
    processes serving the scratch database (found by its name in their titles)."""

    def __init__(self, server: GunicornServer, database_url: str) -> None:
        from sqlalchemy.engine import make_url

        self.server = server
        url = make_url(database_url)
        self.database = url.database if url.get_backend_name() == "postgresql" else None
        self.start = self._sample()

    def _sample(self) -> dict[int, float]:
        import psutil

        sample: dict[int, float] = {}
        processes = []
        if self.server.proc is not None and self.server.proc.poll() is None:
            with suppress(psutil.NoSuchProcess):
                master = psutil.Process(self.server.proc.pid)
                processes = [master, *master.children()]
        if self.database:
            marker = f" {self.database} "
            for process in psutil.process_iter(["name", "cmdline"]):
                with suppress(psutil.Error):
                    title = " ".join(process.info["cmdline"] or ()) + " "
                    if process.info["name"].startswith("postgres") and marker in title:
                        processes.append(process)
        for process in processes:
            with suppress(psutil.Error):
                times = process.cpu_times()
                sample[process.pid] = times.user + times.system
        return sample

    def seconds(self) -> tuple[float, float]:
        """CPU seconds (gunicorn, PostgreSQL) since the meter was made; processes that
        ended meanwhile are not counted."""
        now = self._sample()
        web = set(self._web_pids())
        spent = {pid: max(0.0, cpu - self.start.get(pid, 0.0)) for pid, cpu in now.items()}
        return (
            sum(v for pid, v in spent.items() if pid in web),
            sum(v for pid, v in spent.items() if pid not in web),
        )

    def _web_pids(self) -> list[int]:
        if self.server.proc is None:
            return []
        return [self.server.proc.pid, *self.server.worker_pids()]


# ------------------------------------------------------------------ the machine


def machine() -> dict[str, Any]:
    """The machine a server benchmark ran on, for its record: CPUs, memory, Python, SQLite,
    platform and the time (UTC)."""
    import psutil  # only the benchmarks' records need it, not tests/test_faults.py

    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
