"""Load benchmark (issue 5, parts 2 and 3): the survey under gunicorn, against a floor.

For each database (a scratch SQLite file and/or a scratch PostgreSQL database,
both created and dropped here): migrate, open a wave with N personal links,
start gunicorn (the project's ``gunicorn.conf.py``, 4 workers) and let C
simulated browsers complete the survey page by page — the link, the start page,
about you, every section, check your answers, submit, done: every GET and POST
a browser makes, with its cookies and the CSRF token of each form. Then the same
number of requests, at the same concurrency, against the floor
(``benchmarks/floor_app.py``: Flask on the same database, one row per request).
Afterwards the database must hold exactly N responses, N used links, no drafts,
no partial response, and each respondent's answers exactly once.

``--faults``: the same load, during which one gunicorn worker is killed with
SIGKILL (after 30 % of the submits) and later the whole server, master and
workers (after 70 %), then started again. Interrupted respondents open their
link again, resume their draft and submit; every acknowledged submit must be
stored complete, nothing partial, nothing twice, everyone exactly once.

The last line of output is a JSON list, one object per database.

    .venv/bin/python benchmarks/load.py                      # both databases, 500 x 100
    .venv/bin/python benchmarks/load.py --db sqlite --respondents 50 --concurrency 10
    .venv/bin/python benchmarks/load.py --faults
    .venv/bin/python benchmarks/load.py --checkpoint-cost 400

``--checkpoint-cost N``: only the price of emptying SQLite's write-ahead log after each
submit (issue 11: the log must not keep a submit's transaction). N submits through the
service on a scratch SQLite file, alternately with and without the checkpoint, in one run;
submits per second of each and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._browser import LoadRun, Respondent, drive, drive_floor, warm_up  # noqa: E402
from benchmarks._checks import (  # noqa: E402
    Verdict,
    database_totals,
    discard_wave,
    inspect_database,
    prepare_wave,
)
from benchmarks._faults import FaultInjector  # noqa: E402
from benchmarks._figures import kind_table, summarise, summarise_seconds  # noqa: E402
from benchmarks._server import (  # noqa: E402
    CpuMeter,
    GunicornServer,
    machine,
    migrate,
    scratch_database,
    server_environment,
)

P99_TARGET_MS = 250.0  # on PostgreSQL
RATIO_TARGET = 0.5
# Submits acknowledged before each kill. Browsers that start together finish together,
# so whole multiples of the concurrency would catch everyone at their first page:
# these fall in the middle of a round of journeys.
FAULT_PLAN = [(0.3, "worker"), (0.7, "server")]
WARM_UP = 12  # whole journeys in a throw-away wave before the clock starts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--respondents", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument(
        "--faults", action="store_true", help="kill -9 a worker, then the whole server"
    )
    parser.add_argument("--postgres-url", help="server for the scratch database (loopback only)")
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds per load run")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (logs)")
    parser.add_argument(
        "--checkpoint-cost", type=int, metavar="N", help="only time N submits with/without"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.respondents <= 20_000 or not 1 <= args.concurrency <= 1_000:
        parser.error("--respondents must be 1..20000 and --concurrency 1..1000")
    return args


def log(message: str) -> None:
    print(message, flush=True)


def postgres_version(url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, connect_timeout=5) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def run_database(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"relhealth-load-{kind}-"))
    instance = workdir / "instance"
    instance.mkdir()
    secret = secrets.token_hex(32)
    try:
        with scratch_database(kind, workdir, args.postgres_url) as url:
            return _run(kind, url, workdir, instance, secret, args)
    finally:
        if args.keep:
            log(f"  scratch folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(
    kind: str, url: str, workdir: Path, instance: Path, secret: str, args: argparse.Namespace
) -> dict[str, Any]:
    from benchmarks.floor_app import create_floor_table

    log(
        f"\n== {kind}: {args.respondents} respondents, {args.concurrency} connections, "
        f"gunicorn {args.workers} workers{' — with faults' if args.faults else ''} =="
    )
    migrate(url, instance, secret)
    create_floor_table(url)
    os.environ["RELHEALTH_INSTANCE_PATH"] = str(instance)
    from survey_app import create_app
    from survey_app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret})
    with app.app_context():
        wave_id, people = prepare_wave(args.respondents)
        warm_wave_id, warm_people = prepare_wave(WARM_UP, label="warm-up")
        db.session.remove()
        db.engine.dispose()

    env = server_environment(url, instance, secret)
    server = GunicornServer("wsgi:app", env, workdir / "gunicorn-survey.log", workers=args.workers)
    boot = server.start()
    log(f"  survey server up on 127.0.0.1:{server.port} in {boot:.1f} s")
    injector = None
    try:
        warm_up(server.port, warm_people)
        with app.app_context():
            discard_wave(warm_wave_id)
            db.session.remove()
        mark, load_before = server.log_mark(), os.getloadavg()[0]
        cpu_before, meter = time.process_time(), CpuMeter(server, url)
        if args.faults:

            def check() -> Verdict:
                with app.app_context():
                    try:
                        return inspect_database(wave_id, people, final=False)
                    finally:
                        db.session.remove()

            injector = FaultInjector(
                server,
                people,
                FAULT_PLAN,
                check=check,
                time_limit=args.time_limit,
            )
            injector.start()
        run = drive(
            server.port, people, args.concurrency, faults=args.faults, time_limit=args.time_limit
        )
        if injector is not None:
            injector.join(timeout=120)
        web_cpu, database_cpu = meter.seconds()
        server_cpu = web_cpu + database_cpu
        answered = sum(1 for s in run.samples if s.status)
        usage = {
            "generator_cpu_share": round((time.process_time() - cpu_before) / run.seconds, 2),
            # gunicorn (+ PostgreSQL) CPU; not after a restart: the first server's is gone
            "server_cpu_share": None if args.faults else round(server_cpu / run.seconds, 2),
            "server_cpu_ms_per_request": (
                None if args.faults else round(1000 * server_cpu / max(1, answered), 2)
            ),
            "database_cpu_ms_per_request": (
                None if args.faults else round(1000 * database_cpu / max(1, answered), 2)
            ),
            "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        }
        service = summarise_seconds(server.service_times(mark))
    finally:
        server.stop()
    survey = summarise(run.samples, run.seconds)
    log(f"  survey: {survey['requests']} requests in {run.seconds:.1f} s")
    log(kind_table(run.samples))
    log(
        f"  time inside a worker (access log): p50 {service['p50_ms']} ms, "
        f"p95 {service['p95_ms']} ms, p99 {service['p99_ms']} ms; the rest of the latency is "
        f"queueing for one of {args.workers} workers"
    )
    log(
        f"  CPU: generator {usage['generator_cpu_share']} cores, service "
        f"{usage['server_cpu_share']} cores (of {os.cpu_count()}), "
        f"{usage['server_cpu_ms_per_request']} ms per request "
        f"({usage['database_cpu_ms_per_request']} of them in PostgreSQL); load average "
        f"{usage['load_average'][0]} before, {usage['load_average'][1]} after"
    )

    floor: dict[str, Any] | None = None
    if not args.faults:
        floor_server = GunicornServer(
            "benchmarks.floor_app:create_app()",
            env,
            workdir / "gunicorn-floor.log",
            workers=args.workers,
        )
        floor_server.start()
        try:
            drive_floor(floor_server.port, 4 * args.concurrency, args.concurrency)  # warm
            floor_mark, floor_meter = floor_server.log_mark(), CpuMeter(floor_server, url)
            floor_run = drive_floor(
                floor_server.port, survey["requests"], args.concurrency, args.time_limit
            )
            floor_cpu = sum(floor_meter.seconds())
            floor_service = summarise_seconds(floor_server.service_times(floor_mark))
        finally:
            floor_server.stop()
        floor = summarise(floor_run.samples, floor_run.seconds)
        log(
            f"  floor: {floor['requests']} requests in {floor_run.seconds:.1f} s: "
            f"{floor['requests_per_s']} req/s, p50 {floor['p50_ms']} ms, "
            f"p95 {floor['p95_ms']} ms, p99 {floor['p99_ms']} ms, {floor['failed_requests']} failed; "
            f"service CPU {1000 * floor_cpu / max(1, floor['requests']):.2f} ms per request"
        )

    with app.app_context():
        verdict = inspect_database(wave_id, people, final=True)
        totals = database_totals()
        db.session.remove()
        db.engine.dispose()

    errors = [p.error for p in people if p.error]
    for message in sorted(set(errors))[:10]:
        log(f"  error: {message} (x{errors.count(message)})")
    # Completed: the respondent saw "done", or (a submit whose answer a fault swallowed)
    # opening the link again said the survey was already completed.
    completed = sum((p.acknowledged and p.saw_done_page) or p.stored_unacknowledged for p in people)
    result: dict[str, Any] = {
        "db": kind,
        "completed": completed,
        "errors": len(errors),
        "requests_per_s": survey["requests_per_s"],
        "surveys_per_s": round(completed / run.seconds, 2),
        "floor_requests_per_s": floor["requests_per_s"] if floor else None,
        "throughput_ratio": (
            round(survey["requests_per_s"] / floor["requests_per_s"], 2) if floor else None
        ),
        "p50_ms": survey["p50_ms"],
        "p95_ms": survey["p95_ms"],
        "p99_ms": survey["p99_ms"],
        "lost": verdict.lost,
        "duplicates": verdict.duplicates,
        # beyond the required keys
        "respondents": args.respondents,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "requests": survey["requests"],
        "seconds": round(run.seconds, 1),
        "max_ms": survey["max_ms"],
        "responses": verdict.responses,
        "used_tokens": verdict.used_tokens,
        "drafts": verdict.drafts,
        "partial": verdict.partial,
        "integrity_ok": verdict.ok,
        "database_totals": totals,
    }
    expected = {"responses": args.respondents, "used_tokens": args.respondents, "drafts": 0}
    for name, value in expected.items():
        if totals[name] != value:
            verdict.problems.append(f"the whole database holds {totals[name]} {name}, not {value}")
            result["integrity_ok"] = False
    result.update(
        server_p50_ms=service["p50_ms"],
        server_p95_ms=service["p95_ms"],
        server_p99_ms=service["p99_ms"],
        **usage,
    )
    if floor:
        result.update(
            floor_p50_ms=floor["p50_ms"],
            floor_p95_ms=floor["p95_ms"],
            floor_p99_ms=floor["p99_ms"],
            floor_server_p99_ms=floor_service["p99_ms"],
            floor_cpu_ms_per_request=round(1000 * floor_cpu / max(1, floor["requests"]), 2),
            floor_failed=floor["failed_requests"],
        )
    if kind == "postgresql":
        result["server_version"] = postgres_version(url)
    if injector is not None:
        result.update(_fault_figures(injector, people, server, run))
    for problem in verdict.problems:
        log(f"  INTEGRITY: {problem}")
    log(
        f"  database: {verdict.responses} responses, {verdict.used_tokens} used links, "
        f"{verdict.drafts} drafts, {verdict.partial} partial, {verdict.lost} lost, "
        f"{verdict.duplicates} duplicated"
    )
    return result


def _fault_figures(
    injector: FaultInjector,
    people: list[Respondent],
    server: GunicornServer,
    run: LoadRun,
) -> dict[str, Any]:
    if injector.failure is not None:
        log(f"  FAULT INJECTION FAILED: {injector.failure!r}")
    events = []
    for event in injector.events:
        check = event.check
        line = (
            f"  fault: kill -9 {event.kind} at {event.at_s:.1f} s "
            f"(pids {', '.join(map(str, event.killed))}), "
            f"{event.acknowledged_before} submits acknowledged before"
        )
        if event.kind == "server":
            line += f", serving again after {event.downtime_s:.1f} s"
        if check is not None:
            line += (
                f"; right after: {check.responses} responses, {check.used_tokens} used links, "
                f"{check.partial} partial, {check.lost} lost, {check.duplicates} duplicated"
                + ("" if check.ok else f" — {'; '.join(check.problems)}")
            )
        log(line)
        events.append(
            {
                "kind": event.kind,
                "at_s": round(event.at_s, 1),
                "acknowledged_before": event.acknowledged_before,
                "downtime_s": round(event.downtime_s, 1),
                "check_ok": check.ok if check else None,
                "lost_after": check.lost if check else None,
                "partial_after": check.partial if check else None,
            }
        )
    interrupted = [p for p in people if p.interruptions]
    failed_requests = sum(1 for s in run.samples if s.status == 0)
    figures = {
        "faults": events,
        "fault_injection_ok": injector.failure is None and len(events) == len(injector.plan),
        "interrupted_respondents": len(interrupted),
        "interrupted_requests": failed_requests,
        "resumed_from_draft": sum(1 for p in people if p.resumed_from_draft),
        "submit_lost_but_stored": sum(p.stored_unacknowledged for p in people),
        "server_starts": server.starts,
    }
    log(
        f"  {figures['interrupted_respondents']} respondents interrupted "
        f"({failed_requests} requests without an answer); "
        f"{figures['resumed_from_draft']} resumed their draft with the same link; "
        f"{figures['submit_lost_but_stored']} had a submit stored whose answer was lost "
        "(the link then said 'already completed')"
    )
    return figures


def targets(result: dict[str, Any]) -> list[str]:
    """The issue's targets this run missed (empty: all met)."""
    missed = []
    if result["errors"]:
        missed.append(f"{result['errors']} errors")
    if not result["integrity_ok"]:
        missed.append("database integrity")
    faults = "faults" in result  # latency and throughput then include the outage
    if result["db"] == "postgresql" and not faults and result["p99_ms"] >= P99_TARGET_MS:
        missed.append(f"p99 {result['p99_ms']} ms >= {P99_TARGET_MS:.0f} ms")
    ratio = result.get("throughput_ratio")
    if ratio is not None and ratio < RATIO_TARGET:
        missed.append(f"throughput ratio {ratio} < {RATIO_TARGET}")
    if result.get("fault_injection_ok") is False:
        missed.append("fault injection did not run as planned")
    return missed


def checkpoint_cost(submits: int) -> dict[str, Any]:
    """Submits per second with and without the write-ahead log checkpoint, interleaved."""
    from survey_app import create_app
    from survey_app.extensions import db
    from survey_app.services import respondents

    workdir = Path(tempfile.mkdtemp(prefix="relhealth-checkpoint-"))
    instance, secret = workdir / "instance", secrets.token_hex(32)
    instance.mkdir()
    timed: dict[bool, list[float]] = {True: [], False: []}
    checkpoint = respondents.checkpoint_wal
    try:
        with scratch_database("sqlite", workdir) as url:
            migrate(url, instance, secret)
            os.environ["RELHEALTH_INSTANCE_PATH"] = str(instance)
            app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret})
            with app.app_context():
                _, people = prepare_wave(submits)
                for person in people:
                    ctx = respondents.open_link(person.token)
                    draft = {
                        "about": {"service_area": "core-ict", "role_level": "staff"},
                        "answers": {i.key: 1 + person.number % 5 for i in ctx.instrument.items},
                        "comments": {},
                        "seen": [len(ctx.sections)],
                    }
                    respondents.save_draft(ctx, draft)
                    with_checkpoint = person.number % 2 == 0
                    respondents.checkpoint_wal = (
                        checkpoint if with_checkpoint else (lambda **_: True)
                    )
                    started = time.perf_counter()
                    respondents.submit(ctx, draft)
                    timed[with_checkpoint].append(time.perf_counter() - started)
                db.session.remove()
                db.engine.dispose()
    finally:
        respondents.checkpoint_wal = checkpoint
        shutil.rmtree(workdir, ignore_errors=True)
    rate = {arm: len(times) / sum(times) for arm, times in timed.items()}
    result = {
        "benchmark": "sqlite_checkpoint_after_submit",
        "submits_each": len(timed[True]),
        "submits_per_s_with": round(rate[True], 1),
        "submits_per_s_without": round(rate[False], 1),
        "ratio_with_to_without": round(rate[True] / rate[False], 3),
        "ms_per_submit_with": round(1000 / rate[True], 2),
        "ms_per_submit_without": round(1000 / rate[False], 2),
    }
    log(
        f"  submit with the checkpoint {result['ms_per_submit_with']} ms, without "
        f"{result['ms_per_submit_without']} ms ({result['ratio_with_to_without']}x the rate)"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.checkpoint_cost:
        result = checkpoint_cost(args.checkpoint_cost) | {"machine": machine()}
        print(json.dumps(result), flush=True)
        return 0
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    info = machine()
    log(
        f"machine: {info['cpus']} CPUs, {info['memory_gb']} GB, Python {info['python']}, "
        f"SQLite {info['sqlite']}, {info['platform']}, {info['date']}"
    )
    log(
        "note: the load generator runs on the same machine and competes with gunicorn "
        "(and PostgreSQL) for the same CPUs"
    )
    results = []
    started = time.monotonic()
    for kind in kinds:
        results.append(run_database(kind, args))
    integrity_failed = False
    log(f"\n== summary ({time.monotonic() - started:.0f} s) ==")
    for result in results:
        missed = targets(result)
        integrity_failed |= not result["integrity_ok"] or bool(result["errors"])
        log(
            f"  {result['db']}: "
            + ("all targets met" if not missed else "MISSED: " + "; ".join(missed))
        )
    print(json.dumps(results), flush=True)
    return 1 if integrity_failed else 0


if __name__ == "__main__":
    sys.exit(main())
