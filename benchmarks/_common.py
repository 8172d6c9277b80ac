"""Machinery shared by ``benchmarks/load.py`` and ``tests/test_faults.py``.

- scratch databases (an SQLite file, or a PostgreSQL database created and dropped);
- a gunicorn server started from the project's ``gunicorn.conf.py``, which we can
  kill -9 (one worker, or master and workers) and start again;
- a lean browser: stdlib ``http.client`` on one connection per thread (kept alive
  when the server allows it), a cookie jar, CSRF tokens read from each form;
- simulated respondents that complete the survey page by page, and resume with
  their link after a fault, as a person would;
- the check of what the database holds afterwards.

Every respondent's answers are a deterministic function of its number, so the
harness can recognise its response in the (anonymous) responses table: that is
how "lost" and "duplicated" are counted without any link in the database
between a response and an invitation.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

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


# ------------------------------------------------------------------ the browser

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
RADIO = re.compile(r'name="([A-Za-z0-9_]+)" type="radio" value="([^"]*)"')
TEXTAREA = re.compile(r'<textarea[^>]* name="([A-Za-z0-9_]+)"')
BUTTON = re.compile(r'<button type="submit" value="([^"]*)" name="([A-Za-z0-9_]+)"')
START = re.compile(r'<a href="(/survey/[^"]*)" role="button"[^>]*govuk-button--start')
SECTION = re.compile(r"^/survey/section/\d+$")


@dataclass(slots=True)
class Sample:
    at: float  # perf_counter when the answer was read
    kind: str
    seconds: float
    status: int  # 0: no answer (connection failed)


class Browser:
    """A browser tab: one connection (re-opened whenever the server closes it) and cookies."""

    def __init__(self, port: int, samples: list[Sample], timeout: float = 60.0) -> None:
        self.port = port
        self.samples = samples
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, kind: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        """Send one request; returns (status, Location path, body). Raises on connection loss."""
        headers = {"Accept": "text/html,application/xhtml+xml"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        began = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except BaseException:
            self.samples.append(Sample(time.perf_counter(), kind, time.perf_counter() - began, 0))
            self.close()
            raise
        ended = time.perf_counter()
        self.samples.append(Sample(ended, kind, ended - began, response.status))
        if response.will_close:
            self.close()
        for header in response.msg.get_all("Set-Cookie") or ():
            self._store_cookie(header)
        location = response.getheader("Location") or ""
        if location:
            parts = urlsplit(location)
            location = parts.path + (f"?{parts.query}" if parts.query else "")
        return response.status, location, data.decode("utf-8", "replace")

    def _store_cookie(self, header: str) -> None:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        attributes = attributes.lower()
        if not value or "max-age=0" in attributes or "expires=thu, 01 jan 1970" in attributes:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# ------------------------------------------------------------------ respondents


class UnexpectedAnswer(Exception):
    """The server answered something a working service would not (counted as an error)."""


@dataclass
class Respondent:
    """One simulated member of staff with a personal link."""

    number: int
    token: str
    side: str
    posted: dict[str, str] = field(default_factory=dict)  # radios: name -> value
    texts: dict[str, str] = field(default_factory=dict)  # text boxes: name -> text
    acknowledged: bool = False  # got the 302 to /survey/done for the submit
    saw_done_page: bool = False
    submit_unanswered: bool = False  # a submit was sent and its answer lost
    stored_unacknowledged: bool = False  # re-opened link said "already completed"
    interruptions: list[str] = field(default_factory=list)
    resumed_from_draft: int = 0
    error: str | None = None
    step: str = ""

    def choose(self, name: str, offered: list[str]) -> str:
        return offered[zlib.crc32(f"{self.number}:{name}".encode()) % len(offered)]

    def comment(self, name: str) -> str:
        if self.number % 4:
            return ""
        return f"Respondent {self.number} on {name}: réunions utiles — “more of this”."


def _kind(method: str, path: str) -> str:
    if path.startswith("/s/"):
        return "GET /s/<token>"
    if SECTION.match(path):
        path = "/survey/section/<n>"
    if method == "POST" and path == "/survey/check":
        return "POST /survey/check (submit)"
    return f"{method} {path}"


def fill_form(page: str, html: str, person: Respondent) -> dict[str, str]:
    """Fill the page's form as this respondent would and press its first (primary) button."""
    token = CSRF.search(html)
    if token is None:
        raise UnexpectedAnswer(f"{page}: no CSRF token in the form")
    form = {"csrf_token": token.group(1)}
    groups: dict[str, list[str]] = {}
    for name, value in RADIO.findall(html):
        groups.setdefault(name, []).append(value)
    for name, offered in groups.items():
        form[name] = person.posted[name] = person.choose(name, offered)
    for name in TEXTAREA.findall(html):
        form[name] = person.texts[name] = person.comment(name)
    button = BUTTON.search(html)
    if button:
        form[button.group(2)] = button.group(1)
    return form


MAX_PAGES = 60  # a whole survey is 27 requests; resumes add a few


def complete_survey(browser: Browser, person: Respondent) -> None:
    """Open the link and go page by page to the 'done' page. Raises OSError/HTTPException
    when the connection fails (a fault), UnexpectedAnswer when the service misbehaves."""
    if person.acknowledged:  # only the thank-you page was lost: reload it
        person.step = "GET /survey/done"
        status, _, _ = browser.request("GET", "/survey/done", "GET /survey/done")
        if status != 200:
            raise UnexpectedAnswer(f"reloading /survey/done answered {status}")
        person.saw_done_page = True
        return
    person.step = "GET /s/<token>"
    status, path, _ = browser.request("GET", f"/s/{person.token}", "GET /s/<token>")
    if status == 409 and person.submit_unanswered:
        person.stored_unacknowledged = True  # the submit whose answer was lost did commit
        return
    if status != 302:
        raise UnexpectedAnswer(f"opening the link answered {status}")
    if path == "/survey/resume" and person.interruptions:
        person.resumed_from_draft += 1
    for _ in range(MAX_PAGES):
        person.step = f"GET {path}"
        status, location, html = browser.request("GET", path, _kind("GET", path))
        if status == 302:
            path = location
            continue
        if status != 200:
            raise UnexpectedAnswer(f"GET {path} answered {status}")
        if path == "/survey/done":
            person.saw_done_page = True
            return
        if path == "/survey/":
            start = START.search(html)
            if start is None:
                raise UnexpectedAnswer("the start page has no start button")
            path = start.group(1)
            continue
        if path not in ("/survey/about", "/survey/check") and not SECTION.match(path):
            raise UnexpectedAnswer(f"unexpected page {path}")
        form = fill_form(path, html, person)
        submitting = path == "/survey/check"
        person.step = f"POST {path}"
        person.submit_unanswered = person.submit_unanswered or submitting
        status, location, _ = browser.request("POST", path, _kind("POST", path), form)
        if submitting:
            person.submit_unanswered = False
        if status != 302:
            raise UnexpectedAnswer(f"POST {path} answered {status}")
        if submitting and location == "/survey/done":
            person.acknowledged = True
        path = location
    raise UnexpectedAnswer(f"more than {MAX_PAGES} pages without reaching the end")


CONNECTION_ERRORS = (OSError, http.client.HTTPException)


def run_respondent(
    browser: Browser, person: Respondent, *, faults: bool, deadline: float, max_attempts: int = 40
) -> None:
    """Complete the survey; after a connection failure (only expected when faults are
    being injected) wait a moment and open the personal link again, like a person would."""
    browser.cookies.clear()
    for attempt in range(1, max_attempts + 1):
        try:
            complete_survey(browser, person)
            return
        except UnexpectedAnswer as exc:
            person.error = f"{person.step}: {exc}"
            return
        except CONNECTION_ERRORS as exc:
            if not faults:
                person.error = f"{person.step}: {type(exc).__name__}: {exc}"
                return
            person.interruptions.append(f"{person.step}: {type(exc).__name__}")
            if time.monotonic() > deadline:
                break
            time.sleep(min(2.0, 0.1 * attempt) * (0.5 + random.random()))  # noqa: S311
    person.error = f"{person.step}: gave up after {len(person.interruptions)} interruptions"


@dataclass
class LoadRun:
    samples: list[Sample]
    seconds: float
    started: float  # perf_counter at the start


def drive(
    port: int,
    people: list[Respondent],
    concurrency: int,
    *,
    faults: bool = False,
    time_limit: float = 900.0,
) -> LoadRun:
    """``concurrency`` browsers, each taking the next respondent until none is left."""
    waiting = deque(people)
    lock = threading.Lock()
    per_thread: list[list[Sample]] = [[] for _ in range(concurrency)]
    deadline = time.monotonic() + time_limit

    def browse(samples: list[Sample]) -> None:
        browser = Browser(port, samples)
        try:
            while time.monotonic() < deadline:
                with lock:
                    if not waiting:
                        return
                    person = waiting.popleft()
                run_respondent(browser, person, faults=faults, deadline=deadline)
        finally:
            browser.close()

    threads = [
        threading.Thread(target=browse, args=(s,), name=f"browser-{i}", daemon=True)
        for i, s in enumerate(per_thread)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, deadline - time.monotonic() + 120))
    seconds = time.perf_counter() - started
    for person in waiting:
        person.error = person.error or "not started before the time limit"
    return LoadRun([s for samples in per_thread for s in samples], seconds, started)


def drive_floor(port: int, requests: int, concurrency: int, time_limit: float = 600.0) -> LoadRun:
    """The floor, measured the same way: ``concurrency`` browsers, ``requests`` POSTs in all."""
    remaining = [requests]
    lock = threading.Lock()
    per_thread: list[list[Sample]] = [[] for _ in range(concurrency)]
    deadline = time.monotonic() + time_limit

    def browse(number: int, samples: list[Sample]) -> None:
        browser = Browser(port, samples)
        sent = 0
        try:
            while time.monotonic() < deadline:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                sent += 1
                with suppress(*CONNECTION_ERRORS):  # a failure is recorded as a sample
                    browser.request(
                        "POST", "/floor", "POST /floor", {"note": f"browser {number} #{sent}"}
                    )
        finally:
            browser.close()

    threads = [
        threading.Thread(target=browse, args=(i, s), daemon=True) for i, s in enumerate(per_thread)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, deadline - time.monotonic() + 120))
    return LoadRun(
        [s for samples in per_thread for s in samples], time.perf_counter() - started, started
    )


def warm_up(port: int, people: list[Respondent], concurrency: int = 8) -> None:
    """Whole journeys before the clock starts, so that every worker has compiled its
    templates and filled its caches. ``people`` belong to a separate wave that is
    deleted afterwards (``discard_wave``), so the counts of the measured wave, and
    of the database, are untouched."""
    run = drive(port, people, concurrency, time_limit=300)
    failed = [p.error for p in people if p.error]
    if failed or not all(p.acknowledged for p in people):
        raise RuntimeError(
            f"the warm-up journeys failed: {failed[:3]}; {len(run.samples)} requests"
        )


# ------------------------------------------------------------------ figures


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def summarise(samples: list[Sample], seconds: float) -> dict[str, Any]:
    """Request figures over every answered request: throughput, p50/p95/p99 latency (ms).

    Requests that got no answer at all (only while faults are injected) are counted
    in ``unanswered`` and left out of the latencies."""
    latencies = sorted(s.seconds for s in samples if s.status)
    return {
        "requests": len(latencies),
        "unanswered": sum(1 for s in samples if not s.status),
        "failed_requests": sum(1 for s in samples if s.status == 0 or s.status >= 500),
        "requests_per_s": round(len(latencies) / seconds, 1) if seconds else 0.0,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else float("nan"),
    }


def summarise_seconds(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {f"p{p}_ms": round(percentile(ordered, p) * 1000, 1) for p in (50, 95, 99)}


def by_kind(samples: list[Sample]) -> list[tuple[str, int, float, float, float]]:
    groups: dict[str, list[float]] = {}
    for s in samples:
        if s.status:
            groups.setdefault(s.kind, []).append(s.seconds)
    rows = []
    for kind, values in groups.items():
        values.sort()
        rows.append(
            (
                kind,
                len(values),
                percentile(values, 50) * 1000,
                percentile(values, 95) * 1000,
                percentile(values, 99) * 1000,
            )
        )
    return sorted(rows, key=lambda row: -row[1])


def kind_table(samples: list[Sample]) -> str:
    lines = [f"  {'request':<32}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"]
    for kind, count, p50, p95, p99 in by_kind(samples):
        lines.append(f"  {kind:<32}{count:>7}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}")
    return "\n".join(lines)


# ------------------------------------------------------------------ set-up and checks
# These run inside an application context of the service bound to the same database.


def prepare_wave(respondents: int, label: str = "bench") -> tuple[int, list[Respondent]]:
    """An open wave (of a relationship of its own) with ``respondents`` personal links,
    half for each side; returns (wave id, respondents)."""
    from survey_app.extensions import db
    from survey_app.services.invitations import issue_invitations
    from survey_app.services.relationships import create_relationship
    from survey_app.services.waves import create_wave, open_wave

    relationship = create_relationship(
        f"Load-test Council {label} — Load-test Supplier",
        client="Load-test Council",
        supplier="Load-test Supplier",
        service_areas=["Core ICT", "Adult social care", "Revenues", "Contact centre"],
    )
    wave = create_wave(relationship, label)
    open_wave(wave)
    db.session.flush()
    clients = (respondents + 1) // 2
    issued = [("client", i) for i in issue_invitations(wave, "client", clients)]
    if respondents - clients:
        issued += [
            ("supplier", i) for i in issue_invitations(wave, "supplier", respondents - clients)
        ]
    db.session.commit()
    people = [Respondent(n, inv.token, side) for n, (side, inv) in enumerate(issued)]
    return wave.id, people


def database_totals() -> dict[str, int]:
    """Rows in the whole database (not only one wave): responses, used links, drafts."""
    from sqlalchemy import func, select

    from survey_app.extensions import db
    from survey_app.models import Answer, Draft, Invitation, Response

    count = db.session.scalar
    totals = {
        "responses": count(select(func.count()).select_from(Response)),
        "answers": count(select(func.count()).select_from(Answer)),
        "used_tokens": count(select(func.count()).where(Invitation.used_on.is_not(None))),
        "drafts": count(select(func.count()).select_from(Draft)),
    }
    db.session.rollback()
    return totals


def discard_wave(wave_id: int) -> None:
    """Delete a wave with everything in it (invitations, drafts, responses cascade)."""
    from sqlalchemy import delete

    from survey_app.extensions import db
    from survey_app.models import Wave

    db.session.execute(delete(Wave).where(Wave.id == wave_id))
    db.session.commit()


Fingerprint = tuple[Any, ...]


def expected_fingerprint(person: Respondent, item_numbers: dict[str, int]) -> Fingerprint | None:
    """What this respondent's stored response must look like, from what it posted."""
    posted = dict(person.posted)  # a copy: its browser thread may still be posting
    answers = []
    for key, number in item_numbers.items():
        value = posted.get(f"q_{key}")
        if value is None:
            return None  # never reached that question
        answers.append((number, None if value == "dk" else int(value)))
    area = posted.get("service_area")
    role = posted.get("role_level")
    texts = dict(person.texts)
    comments = tuple(
        sorted(
            (name.removeprefix("q_"), text.strip()) for name, text in texts.items() if text.strip()
        )
    )
    return (
        person.side,
        None if area in (None, "none") else area,
        None if role in (None, "not-said") else role,
        tuple(sorted(answers)),
        comments,
    )


@dataclass
class Verdict:
    """What the database holds, against what the respondents were told."""

    respondents: int
    acknowledged: int
    stored_unacknowledged: int
    responses: int
    used_tokens: int
    drafts: int
    partial: int  # responses without exactly one answer per item
    lost: int  # acknowledged (or confirmed stored) respondents whose response is not there
    duplicates: int  # responses beyond one per respondent, or matching no respondent
    missing: int  # respondents with no response at all (should be 0 after a full run)
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def inspect_database(wave_id: int, people: list[Respondent], *, final: bool = True) -> Verdict:
    """Read the wave's responses in bulk and match them to the respondents' answers.

    ``final``: every respondent should by now have exactly one response and no draft.
    Otherwise (a check in the middle of the load) only the acknowledged ones must.
    """
    from sqlalchemy import func, select

    from survey_app.extensions import db
    from survey_app.models import Answer, Comment, Draft, Invitation, Response, ServiceArea, Wave
    from survey_app.services.instruments import frozen_instrument

    # Who must already be stored is decided before the database is read: an
    # acknowledgement seen now means a commit before the snapshot taken below.
    must_be_stored = [p for p in people if p.acknowledged or p.stored_unacknowledged]
    acknowledged = sum(p.acknowledged for p in must_be_stored)
    unacked_stored = len(must_be_stored) - acknowledged
    session = db.session
    session.rollback()
    if session.get_bind().dialect.name == "postgresql":  # one snapshot for every count below
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    wave = session.get(Wave, wave_id)
    instrument = frozen_instrument(wave.instrument_version)
    item_numbers = {item.key: n for n, item in enumerate(instrument.items)}
    areas = dict(session.execute(select(ServiceArea.id, ServiceArea.key)).all())

    responses = session.execute(
        select(Response.id, Response.side, Response.service_area_id, Response.role_level).where(
            Response.wave_id == wave_id
        )
    ).all()
    ids = [r.id for r in responses]
    answers: dict[Any, list[tuple[int, int | None]]] = {i: [] for i in ids}
    comments: dict[Any, list[tuple[str, str]]] = {i: [] for i in ids}
    for response_id, item_no, value in session.execute(
        select(Answer.response_id, Answer.item_no, Answer.value)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.wave_id == wave_id)
    ):
        answers[response_id].append((item_no, value))
    for response_id, key, text in session.execute(
        select(Comment.response_id, Comment.question_key, Comment.text)
        .join(Response, Response.id == Comment.response_id)
        .where(Response.wave_id == wave_id)
    ):
        comments[response_id].append((key, text))
    used = session.scalar(
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.wave_id == wave_id, Invitation.used_on.is_not(None))
    )
    drafts = session.scalar(select(func.count()).select_from(Draft).where(Draft.wave_id == wave_id))
    session.rollback()

    partial = sum(1 for i in ids if len(answers[i]) != len(item_numbers))
    stored = Counter(
        (
            r.side,
            areas.get(r.service_area_id),
            r.role_level,
            tuple(sorted(answers[r.id])),
            tuple(sorted(comments[r.id])),
        )
        for r in responses
    )
    expected = {p.number: expected_fingerprint(p, item_numbers) for p in people}
    fingerprints = [f for f in expected.values() if f is not None]
    problems = []
    if len(set(fingerprints)) != len(fingerprints):
        problems.append("two respondents gave identical answers: the check cannot tell them apart")
    lost = sum(1 for p in must_be_stored if stored.get(expected[p.number], 0) == 0)
    known = set(fingerprints)
    duplicates = sum(c - 1 for c in stored.values() if c > 1) + sum(
        c for f, c in stored.items() if f not in known
    )
    missing = sum(1 for p in people if stored.get(expected[p.number], 0) == 0)

    if partial:
        problems.append(f"{partial} responses are partial (not one answer per item)")
    if lost:
        problems.append(f"{lost} acknowledged responses are not stored complete")
    if duplicates:
        problems.append(f"{duplicates} duplicated or unrecognised responses")
    if used != len(responses):
        problems.append(f"{used} used tokens but {len(responses)} responses")
    if final:
        if len(responses) != len(people):
            problems.append(f"{len(responses)} responses for {len(people)} respondents")
        if missing:
            problems.append(f"{missing} respondents have no response")
        if drafts:
            problems.append(f"{drafts} drafts left behind")
        if used != len(people):
            problems.append(f"{used} used tokens for {len(people)} respondents")
    return Verdict(
        respondents=len(people),
        acknowledged=acknowledged,
        stored_unacknowledged=unacked_stored,
        responses=len(responses),
        used_tokens=used,
        drafts=drafts,
        partial=partial,
        lost=lost,
        duplicates=duplicates,
        missing=missing,
        problems=problems,
    )


# ------------------------------------------------------------------ faults


@dataclass
class FaultEvent:
    kind: str  # "worker" or "server"
    at_s: float  # seconds into the load
    killed: list[int]
    acknowledged_before: int
    downtime_s: float = 0.0  # server: from kill -9 to serving again
    check: Verdict | None = None  # the database right after (only acknowledged must be there)


class FaultInjector(threading.Thread):
    """Waits for a share of the respondents to finish, then kill -9s, as planned.

    ``plan``: [(fraction acknowledged, "worker" | "server"), ...]. After each fault,
    ``check`` (if given) inspects the database while the load goes on.
    """

    def __init__(
        self,
        server: GunicornServer,
        people: list[Respondent],
        plan: list[tuple[float, str]],
        *,
        check: Callable[[], Verdict] | None = None,
        pause_s: float = 1.0,
        time_limit: float = 900.0,
        seed: int = 5,
    ) -> None:
        super().__init__(name="fault-injector", daemon=True)
        self.server = server
        self.people = people
        self.plan = plan
        self.check = check
        self.pause_s = pause_s
        self.deadline = time.monotonic() + time_limit
        self.rng = random.Random(seed)
        self.events: list[FaultEvent] = []
        self.failure: BaseException | None = None
        self.started_at = time.perf_counter()

    def run(self) -> None:
        try:
            for fraction, kind in self.plan:
                target = max(1, int(fraction * len(self.people)))
                while time.monotonic() < self.deadline:
                    if sum(p.acknowledged for p in self.people) >= target:
                        break
                    time.sleep(0.01)
                else:
                    raise TimeoutError(f"{kind} fault: {target} acknowledgements never came")
                acked = sum(p.acknowledged for p in self.people)
                at = time.perf_counter() - self.started_at
                if kind == "worker":
                    event = FaultEvent(kind, at, [self.server.kill_worker(self.rng)], acked)
                    time.sleep(self.pause_s)
                else:
                    began = time.monotonic()
                    killed = self.server.kill_all()
                    time.sleep(self.pause_s)  # the service is down for a moment
                    self.server.start()
                    event = FaultEvent(kind, at, killed, acked, time.monotonic() - began)
                if self.check is not None:
                    event.check = self.check()
                self.events.append(event)
        except BaseException as exc:  # reported by the caller
            self.failure = exc
