"""A lean browser and the simulated respondents that load the service.

- a browser tab: stdlib ``http.client`` on one connection per thread (kept alive
  when the server allows it), a cookie jar, CSRF tokens read from each form, and one
  timing ``Sample`` per request;
- simulated respondents that complete the survey page by page, and resume with
  their link after a fault, as a person would; ``drive`` runs many at once.

Every respondent's answers are a deterministic function of its number, so
``benchmarks._checks`` can recognise its response in the (anonymous) responses table.
"""

from __future__ import annotations

import http.client
import random
import re
import threading
import time
import zlib
from collections import deque
from contextlib import suppress
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from benchmarks._server import HOST

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
