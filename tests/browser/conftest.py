"""Real-browser fixtures: the service under gunicorn, driven by Debian's Chromium.

- ``live_server`` (one per run): ``gunicorn -c gunicorn.conf.py wsgi:app`` in a subprocess on
  a free 127.0.0.1 port, against the run's migrated test database (``migrated`` in
  ``tests/conftest.py``), so pages come from the production entry point with production
  headers (CSP with a nonce, no ``TESTING``). Test data is made in-process with ``factory``
  and ``client``; the server sees it because it shares the database, and the ``app``
  fixture empties the tables after each test as usual. Its email goes by SMTP, configured
  through the environment as in production, to ``mail_server`` (a real SMTP server,
  aiosmtpd, on another free port, for the whole run); the links in the messages point at
  the live server itself (``PUBLIC_BASE_URL``).
- ``live_server_without_email``: a second server with no SMTP settings, started only if a
  test asks for it (the invitations page then offers the mail-merge file alone).
- ``live_server_with_second_factor``: a third, where admins must set up and use a TOTP code
  (``ADMIN_SECOND_FACTOR=1``), also started only when asked for.
- ``browser``: one ``/usr/bin/chromium`` (``CHROMIUM`` overrides) for all the browser tests,
  launched through Playwright with the flags that keep it off the network.
- ``page``: a fresh context per test, under the app's real Content-Security-Policy;
  ``console`` records what the page logged. ``audit_page``: the same, for tests that run
  axe-core (``tests/browser/axe_audit.py``), which fails at once if axe is not installed.
- On a failing browser test a full-page screenshot goes to ``test-artifacts/screenshots/``.

When Chromium is missing the browser tests are skipped with the reason (``make test``
installs it when run as root); set ``REQUIRE_BROWSER=1`` to make that a failure instead.
"""

from __future__ import annotations

import functools
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from benchmarks._server import TEST_GUNICORN_ARGS
from tests.browser.axe_audit import AXE_JS
from tests.browser.page_types import REFUSED_ADDRESS
from tests.browser.site import Site
from tests.conftest import TEST_SECRET
from tests.ports import stop_process
from tests.smtp_mailbox import SENDER, Mailbox

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# --disable-background-networking and friends: without them Chromium keeps trying to
# reach Google's services, which floods a machine that has no route to them.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# Limits only bound a hang (speed is measured by benchmarks/): generous, because the suite runs
# on a loaded 2-core machine where a 30 s start and 10 s clicks failed every browser test.
SERVER_START_TIMEOUT_S = 120
ACTION_TIMEOUT_MS = 30_000
# A page load (goto, reload, the navigation a click starts) waits longer than an action: on the
# loaded machine a dashboard page of the demo (its charts drawn by the server, then GOV.UK's
# assets) took more than 30 s and failed tests that were only slow.
NAVIGATION_TIMEOUT_MS = 90_000


# ----------------------------------------------------------------- the server


@dataclass
class LiveServer:
    url: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)  # gunicorn's, for a worker beside it
    _log_offset: int = 0

    def new_log(self) -> str:
        """What the server logged since the last call."""
        with self.log_path.open(encoding="utf-8", errors="replace") as handle:
            handle.seek(self._log_offset)
            text = handle.read()
            self._log_offset = handle.tell()
        return text


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with {process.returncode}:\n{log_path.read_text()}"
            )
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"gunicorn did not answer within {SERVER_START_TIMEOUT_S}s:\n{log_path.read_text()}"
    )


def _start_gunicorn(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    for _ in range(3):  # another process may take the probed port before gunicorn binds it
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
        env["PUBLIC_BASE_URL"] = url  # the links in its emails lead back to it
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    "gunicorn.conf.py",
                    *TEST_GUNICORN_ARGS,
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            _wait_until_serving(url, process, log_path)
            return process, url
        except RuntimeError:
            _stop(process)
            if "Address already in use" not in log_path.read_text():
                raise
    raise RuntimeError(f"gunicorn could not bind a port:\n{log_path.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        stop_process(process, timeout=10)


@dataclass
class MailServer:
    """The run's SMTP server: what it received (``mailbox.received``) and where it listens."""

    mailbox: Mailbox
    port: int


@pytest.fixture(scope="session")
def mail_server() -> Iterator[MailServer]:
    """A real SMTP server (``tests/smtp_mailbox.py``'s aiosmtpd mailbox, as the mailing tests
    use) on a free 127.0.0.1 port for the whole run, refusing ``REFUSED_ADDRESS``. Tests that
    read what it received clear it first."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox(refuse={REFUSED_ADDRESS})
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield MailServer(mailbox, port)
    finally:
        controller.stop()


def _server_env(migrated: str, folder: Path, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": migrated,
        "SECRET_KEY": TEST_SECRET,
        "RELHEALTH_INSTANCE_PATH": str(folder / "instance"),
        "GUNICORN_WORKERS": "2",
        "ADMIN_SECOND_FACTOR": "0",  # as tests/conftest.py: admins sign in with a password alone
        **settings,
    }


def _serve(env: dict[str, str], folder: Path) -> Iterator[LiveServer]:
    log_path = folder / "gunicorn.log"
    process, url = _start_gunicorn(env, log_path)
    try:
        yield LiveServer(url=url, log_path=log_path, env=env)
    finally:
        _stop(process)


@pytest.fixture
def live_worker(live_server: LiveServer) -> Iterator[None]:
    """A job worker beside the live server, started as ``make run`` starts it
    (``relhealth worker``, its environment), for the tests whose pages start jobs."""
    log_path = live_server.log_path.with_name("worker.log")
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("relhealth")), "worker", "--threads", "2"],
            cwd=ROOT,
            env=live_server.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def live_server(
    migrated: str, mail_server: MailServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The service under gunicorn (two workers, as ``make run``) on the test database,
    sending email through ``mail_server`` (plain SMTP on 127.0.0.1, no sign-in, no pause)."""
    folder = tmp_path_factory.mktemp("live-server")
    email = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mail_server.port),
        "SMTP_SECURITY": "none",
        "SMTP_USERNAME": "",
        "SMTP_PASSWORD": "",
        "SMTP_CA_FILE": "",
        "MAIL_FROM": SENDER,
        "MAIL_MAX_PER_MINUTE": "0",
    }
    yield from _serve(_server_env(migrated, folder, **email), folder)


@pytest.fixture(scope="session")
def live_server_without_email(
    migrated: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A second server (one worker) with no SMTP settings, on the same database."""
    folder = tmp_path_factory.mktemp("live-server-without-email")
    no_email = {"SMTP_HOST": "", "SMTP_SECURITY": "", "MAIL_FROM": "", "GUNICORN_WORKERS": "1"}
    yield from _serve(_server_env(migrated, folder, **no_email), folder)


@pytest.fixture(scope="session")
def live_server_with_second_factor(
    migrated: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A third server (one worker) on the same database where admins must set up and use a
    TOTP code, as in production (``ADMIN_SECOND_FACTOR=1``; the others turn it off for the
    suite's many admin sign-ins), started only if a test asks for it."""
    folder = tmp_path_factory.mktemp("live-server-with-second-factor")
    settings = {"ADMIN_SECOND_FACTOR": "1", "GUNICORN_WORKERS": "1"}
    yield from _serve(_server_env(migrated, folder, **settings), folder)


@pytest.fixture(autouse=True)
def no_server_errors(browser, live_server: LiveServer) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Every browser test also fails if the server logged a traceback meanwhile.
    (``browser`` first: without Chromium the test is skipped before a server starts.)"""
    live_server.new_log()
    yield
    log = live_server.new_log()
    assert "Traceback" not in log, f"the server logged an error during the test:\n{log}"


# ----------------------------------------------------------------- the browser


class _Chromium:
    """One Chromium for the browser tests, started by the first and stopped as soon as the
    last is done rather than at the end of the run: while Playwright's sync API is started
    it leaves an asyncio loop marked running, and any later test calling ``asyncio.run``
    would fail."""

    def __init__(self) -> None:
        self._playwright = None
        self._browser = None

    def get(self):  # type: ignore[no-untyped-def]
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            try:
                self._browser = self._playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS
                )
            except BaseException:
                self.stop()
                raise
        return self._browser

    def stop(self) -> None:
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        try:
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


_chromium = _Chromium()


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        reason = (
            f"Chromium not found at {CHROMIUM}: the browser tests were NOT run "
            "(`make test` installs it with apt when run as root; or set CHROMIUM)"
        )
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    return _chromium.get()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):  # type: ignore[no-untyped-def]
    try:
        return (yield)
    finally:
        if nextitem is None or nextitem.get_closest_marker("browser") is None:
            _chromium.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _chromium.stop()


@dataclass
class ConsoleLog:
    """Console messages and uncaught errors of the test's page, as the browser reported them."""

    messages: list[tuple[str, str, str]] = field(default_factory=list)  # (type, text, url)
    documents: set[str] = field(default_factory=set)  # URLs the page navigated to

    def attach(self, page) -> None:  # type: ignore[no-untyped-def]
        page.on("console", lambda m: self.messages.append((m.type, m.text, m.location["url"])))
        page.on("pageerror", lambda error: self.messages.append(("pageerror", str(error), "")))
        page.on(
            "response",
            lambda r: self.documents.add(r.url) if r.request.is_navigation_request() else None,
        )

    def errors(self) -> list[str]:
        """Errors, less the browser's note that a page it navigated to answered 4xx or 5xx
        (the status is the test's to check; a failed image, style or script still counts)."""
        return [
            text
            for kind, text, url in self.messages
            if kind in ("error", "pageerror")
            and not (text.startswith("Failed to load resource") and url in self.documents)
        ]

    def csp_violations(self) -> list[str]:
        return [
            text
            for _, text, _ in self.messages
            if re.search(r"Content[- ]Security[- ]Policy|Refused to", text, re.IGNORECASE)
        ]


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


def _patient_context(browser, **options):  # type: ignore[no-untyped-def]
    """A new browser context with the suite's limits (``ACTION_TIMEOUT_MS``,
    ``NAVIGATION_TIMEOUT_MS``) rather than Playwright's 30 s for everything."""
    context = browser.new_context(**options)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    return context


@pytest.fixture
def new_context(browser):  # type: ignore[no-untyped-def]
    """Makes another browser context (a second person's browser), with the suite's limits."""
    return functools.partial(_patient_context, browser)


def _new_page(browser, live_server: LiveServer, console: ConsoleLog):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    expect.set_options(timeout=ACTION_TIMEOUT_MS)  # the same patience for assertions as actions
    context = _patient_context(
        browser, base_url=live_server.url, locale="en-GB", viewport={"width": 1024, "height": 768}
    )
    page = context.new_page()
    console.attach(page)
    return context, page


@pytest.fixture
def page(browser, live_server: LiveServer, console: ConsoleLog):  # type: ignore[no-untyped-def]
    """A page in a fresh browser context, under the app's own Content-Security-Policy."""
    context, page = _new_page(browser, live_server, console)
    yield page
    context.close()


@pytest.fixture
def site(factory, client) -> Site:  # type: ignore[no-untyped-def]
    """The test data a browser test works on (one open wave, its respondents, staff accounts)."""
    return Site(factory, client)


@pytest.fixture(params=[375, 1280])
def width(request, page) -> int:  # type: ignore[no-untyped-def]
    """A phone's width, then a desktop's: ``page``'s viewport set to it, 900 px high."""
    page.set_viewport_size({"width": request.param, "height": 900})
    return request.param


@pytest.fixture
def audit_page(browser, live_server: LiveServer, console: ConsoleLog, axe_source: Path):  # type: ignore[no-untyped-def]
    """A ``page`` for tests that audit with axe (``tests/browser/axe_audit.py`` says how it is
    loaded: only into the document audited, through the DevTools protocol, under the app's
    own CSP)."""
    context, page = _new_page(browser, live_server, console)
    yield page
    context.close()


@pytest.fixture(scope="session")
def axe_source() -> Path:
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `make setup` (npm ci installs axe-core)")
    return AXE_JS


# ----------------------------------------------------------------- screenshots on failure


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    report = yield
    if report.when == "call" and report.failed:
        funcargs = getattr(item, "funcargs", {})
        for name in ("page", "audit_page"):
            page = funcargs.get(name)
            if page is None or page.is_closed():
                continue
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", item.nodeid.split("::", 1)[-1]).strip("-")
            database = (
                "postgresql" if "postgres" in os.environ.get("DATABASE_URL", "") else "sqlite"
            )
            path = SCREENSHOTS / f"{database}-{slug}.png"
            try:
                page.screenshot(path=str(path), full_page=True)
                report.sections.append(("screenshot", f"{path} (at {page.url})"))
            except Exception as exc:  # a crashed page must not hide the real failure
                report.sections.append(("screenshot", f"could not be taken: {exc}"))
    return report
