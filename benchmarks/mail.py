"""Mail benchmark (issue 13 part 6): a round of 20,000 invitations sent by a real ``relhealth
worker`` to a local SMTP sink (aiosmtpd, counting what each address received), the worker
killed with SIGKILL part-way and a new one started, while admin and survey pages are loaded
at a steady 10 requests a second from gunicorn.

Figures: messages/s and total time of the round, delivered (addresses that received at least
one message), duplicates (messages beyond the first per address), missing, the outbox rows
``handed`` at the kill (the messages in flight: the bound on duplicates), and the web p95.
Baseline, measured in the same run: the same page loads before the round starts
(``web_idle_p95_ms``), so the ratio says what sending costs the pages. Sending pace is
unlimited (``MAIL_MAX_PER_MINUTE=0``) for the sink.

Targets: 0 missing, duplicates <= in flight at the kill, web p95 < 300 ms during the send.
The last line of output is one JSON object.

    .venv/bin/python benchmarks/mail.py                          # SQLite, 20,000
    .venv/bin/python benchmarks/mail.py --messages 2000          # a quick run
    .venv/bin/python benchmarks/mail.py --db postgresql
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyotp  # noqa: E402

from benchmarks._browser import CSRF, Browser, Sample  # noqa: E402
from benchmarks._figures import percentile  # noqa: E402
from benchmarks._server import (  # noqa: E402
    ROOT,
    GunicornServer,
    free_port,
    migrate,
    scratch_database,
    server_environment,
    venv_tool,
)

P95_TARGET_MS = 300.0
RATE = 10.0  # page loads a second
ADMIN_EMAIL = "bench.admin@council.example"
PASSWORD = "benchmark passphrase 1"  # noqa: S105 (a scratch database)


def log(message: str) -> None:
    print(message, flush=True)


class Sink:
    """An aiosmtpd handler that counts the messages each address received."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        with self.lock:
            for address in envelope.rcpt_tos:
                self.received[address] += 1
        return "250 OK"

    def total(self) -> int:
        with self.lock:
            return sum(self.received.values())


class PageLoads(threading.Thread):
    """Page loads at a steady ``RATE`` a second, alternating the wave's invitations page
    (signed in as an admin) and a survey link's start page (the link, then its redirect)."""

    def __init__(self, port: int, wave_id: int, tokens: list[str], totp_key: str) -> None:
        super().__init__(daemon=True)
        self.port, self.wave_id, self.tokens, self.totp_key = port, wave_id, tokens, totp_key
        self.samples: list[Sample] = []
        self.admin = Browser(port, self.samples)
        self.stopping = threading.Event()
        self.errors = 0

    def sign_in(self) -> None:
        _, _, html = self.admin.request("GET", "/sign-in", "sign-in")
        form = {"csrf_token": CSRF.search(html).group(1), "email": ADMIN_EMAIL,  # type: ignore[union-attr]
                "password": PASSWORD}  # fmt: skip
        status, location, _ = self.admin.request("POST", "/sign-in", "sign-in", form)
        if status == 303 and location.endswith("/sign-in/code"):  # an admin's second factor
            _, _, html = self.admin.request("GET", "/sign-in/code", "sign-in")
            code = {"csrf_token": CSRF.search(html).group(1),  # type: ignore[union-attr]
                    "code": pyotp.TOTP(self.totp_key).now()}  # fmt: skip
            status, location, _ = self.admin.request("POST", "/sign-in/code", "sign-in", code)
        if status not in (302, 303) or "/sign-in" in location:
            raise RuntimeError(f"the benchmark admin could not sign in ({status} {location})")
        self.samples.clear()

    def load_once(self, n: int) -> None:
        if n % 2 == 0:
            status, _, _ = self.admin.request(
                "GET", f"/admin/waves/{self.wave_id}/invitations", "admin"
            )
        else:
            person = Browser(self.port, self.samples)
            token = self.tokens[n % len(self.tokens)]
            status, location, _ = person.request("GET", f"/s/{token}", "survey-link")
            if status == 302:
                status, _, _ = person.request("GET", location, "survey")
            person.close()
        if status not in (200, 302):
            self.errors += 1

    def run(self) -> None:
        n, start = 0, time.monotonic()
        while not self.stopping.is_set():
            try:
                self.load_once(n)
            except OSError:
                self.errors += 1
            n += 1
            pause = start + n / RATE - time.monotonic()
            if pause > 0:
                self.stopping.wait(pause)

    def p95_ms(self, since: float = 0.0) -> float:
        values = sorted(s.seconds for s in self.samples if s.at >= since and s.kind != "sign-in")
        return round(percentile(values, 95) * 1000, 1) if values else float("nan")


def prepare(messages: int, links: int) -> tuple[int, list[str], str]:
    """An open wave whose address list has ``messages`` addresses, ``links`` survey links
    for the page loads, and an admin account with its second factor set up: (wave id,
    tokens, the admin's TOTP key)."""
    from sqlalchemy import insert

    from survey_app.extensions import db
    from survey_app.models import InvitationAddress
    from survey_app.services.accounts import totp
    from survey_app.services.accounts.sign_in import ensure_user
    from survey_app.services.invitations import issue_invitations
    from survey_app.services.relationships import create_relationship
    from survey_app.services.waves import create_wave, open_wave

    relationship = create_relationship(
        "Mail-bench Council — Mail-bench Supplier",
        client="Mail-bench Council",
        supplier="Mail-bench Supplier",
        service_areas=["Core ICT", "Contact centre"],
    )
    wave = create_wave(relationship, "bench")
    open_wave(wave)
    db.session.flush()
    parties = [relationship.party("client").id, relationship.party("supplier").id]
    today = date.today()
    db.session.execute(
        insert(InvitationAddress.__table__),
        [
            {"wave_id": wave.id, "email": f"person{n:06d}@council.example",
             "party_id": parties[n % 2], "added_on": today, "reminders_sent": 0}
            for n in range(messages)
        ],
    )  # fmt: skip
    tokens = [inv.token for inv in issue_invitations(wave, "client", links)]
    admin = ensure_user(ADMIN_EMAIL, name="Benchmark admin", role="admin", password=PASSWORD)
    admin.totp_secret = totp.new_secret()  # as "Set up a code" keeps it
    db.session.commit()
    return wave.id, tokens, totp.setup_key(admin.totp_secret).replace(" ", "")


def outbox_counts(wave_id: int) -> Counter[str | None]:
    from sqlalchemy import select

    from survey_app.extensions import db
    from survey_app.models import InvitationAddress

    db.session.rollback()
    return Counter(
        db.session.scalars(
            select(InvitationAddress.outbox).where(InvitationAddress.wave_id == wave_id)
        )
    )


def job_state(job_id: int) -> tuple[str, Any]:
    from survey_app.extensions import db
    from survey_app.models import Job

    db.session.rollback()
    job = db.session.get(Job, job_id)
    assert job is not None
    db.session.refresh(job)
    return job.state, job.lease_expires_at


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from aiosmtpd.controller import Controller

    secret = secrets.token_hex(32)
    instance = workdir / "instance"
    instance.mkdir()
    with scratch_database(args.db, workdir) as url:
        migrate(url, instance, secret)
        os.environ["RELHEALTH_INSTANCE_PATH"] = str(instance)
        from survey_app import create_app
        from survey_app.database import write_transaction
        from survey_app.extensions import db
        from survey_app.models.job import utcnow
        from survey_app.services import jobs

        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret, "JOB_QUEUE_IMMEDIATE": False}
        )
        sink = Sink()
        smtp_port = free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        env = server_environment(url, instance, secret)
        env.update(
            SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port), SMTP_SECURITY="none",
            MAIL_FROM="survey@council.example", MAIL_MAX_PER_MINUTE="0", REDIS_URL="",
            JOB_LEASE_SECONDS=str(int(args.lease)),
        )  # fmt: skip
        server = GunicornServer("wsgi:app", env, workdir / "gunicorn.log", workers=2)
        workers: list[subprocess.Popen[bytes]] = []

        def start_worker(name: str) -> subprocess.Popen[bytes]:
            with open(workdir / f"{name}.log", "ab") as output:
                process = subprocess.Popen(
                    [venv_tool("relhealth"), "worker", "--threads", "2"],
                    cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                )  # fmt: skip
            workers.append(process)
            return process

        try:
            with app.app_context():
                wave_id, tokens, totp_key = prepare(args.messages, 50)
                log(f"  {args.messages:,} addresses on the list ({args.db})")
                server.start()
                loads = PageLoads(server.port, wave_id, tokens, totp_key)
                loads.sign_in()
                loads.start()
                time.sleep(args.idle)  # the baseline: page loads with nothing being sent
                idle_p95 = loads.p95_ms()
                began = time.monotonic()
                sending_since = time.perf_counter()
                with write_transaction():
                    job_id = jobs.submit_job(
                        "mail.round", {"wave_id": wave_id, "kind": "invitations"}
                    ).id
                first = start_worker("first-worker")
                kill_at = int(args.messages * args.kill_at)
                while sink.total() < kill_at:
                    if first.poll() is not None:
                        raise RuntimeError("the first worker stopped by itself")
                    time.sleep(0.05)
                first.send_signal(signal.SIGKILL)
                first.wait(30)
                at_kill = outbox_counts(wave_id)
                in_flight = at_kill["handed"]
                log(f"  killed the worker after {sink.total():,} messages; in flight {in_flight}")
                while job_state(job_id)[1] > utcnow():  # the lease runs out
                    time.sleep(0.2)
                start_worker("second-worker")
                while job_state(job_id)[0] in ("queued", "running"):
                    if time.monotonic() - began > args.time_limit:
                        raise RuntimeError("the round did not finish in time")
                    time.sleep(0.5)
                seconds = time.monotonic() - began
                state = job_state(job_id)[0]
                loads.stopping.set()
                loads.join(30)
                web_p95 = loads.p95_ms(since=sending_since)
                db.session.remove()
        finally:
            for process in workers:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
                    try:
                        process.wait(30)
                    except subprocess.TimeoutExpired:
                        process.kill()
            server.stop()
            controller.stop()
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    delivered = len(sink.received)
    received = sink.total()
    return {
        "benchmark": "mail",
        "db": args.db,
        "job_state": state,
        "messages": args.messages,
        "delivered": delivered,
        "received": received,
        "duplicates": received - delivered,
        "missing": args.messages - delivered,
        "in_flight_at_kill": in_flight,
        "total_s": round(seconds, 1),
        "messages_per_s": round(received / seconds, 1),
        "web_p95_ms": web_p95,
        "web_idle_p95_ms": idle_p95,
        "web_p95_ratio": round(web_p95 / idle_p95, 2) if idle_p95 else None,
        "web_requests": len(loads.samples),
        "web_errors": loads.errors,
        "load_avg_1m_end": round(os.getloadavg()[0], 1),
        "machine": f"{os.cpu_count()} CPUs, {platform.platform()}",
        "targets_met": bool(
            state == "succeeded"
            and args.messages == delivered
            and received - delivered <= in_flight
            and web_p95 < P95_TARGET_MS
        ),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--kill-at", type=float, default=0.3, help="share sent before the kill")
    parser.add_argument("--lease", type=int, default=5, help="JOB_LEASE_SECONDS")
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of baseline loads")
    parser.add_argument("--time-limit", type=float, default=3600.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="relhealth-mail-") as folder:
        result = run(args, Path(folder))
    log(json.dumps(result))


if __name__ == "__main__":
    main()
