"""Serve the pages (gunicorn) and run one job worker beside them; Ctrl-C stops both (``make run``).

A small supervisor, so that nothing is left running: the two children start in sessions of
their own (a Ctrl-C in the terminal reaches only this process, which then stops them in
order: the worker first, with SIGTERM — it hands its unfinished jobs back, resumed by the
next worker — then gunicorn, with SIGINT), each is told to stop if this process dies
(``PR_SET_PDEATHSIG`` on Linux), and if either child exits, the other is stopped too.

Usage: ``python scripts/run.py [--threads N]`` from the project's folder (the settings are the
service's environment variables: ``DATABASE_URL``, ``REDIS_URL``, ``GUNICORN_BIND`` ...).
It imports nothing of the service: both children are the same commands a deployment runs,
``gunicorn -c gunicorn.conf.py wsgi:app`` and ``relhealth worker``.
"""

from __future__ import annotations

import argparse
import ctypes
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: How long a child may take to stop before it is killed.
STOP_SECONDS = 15.0
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Child:
    name: str
    command: list[str]
    stop_signal: signal.Signals


def relhealth() -> str:
    """The ``relhealth`` console script of this Python (the project's virtualenv)."""
    script = Path(sys.executable).with_name("relhealth")
    return str(script) if script.exists() else "relhealth"


def children(threads: int) -> list[Child]:
    """The worker, then the web server (stopped in this order)."""
    return [
        Child("worker", [relhealth(), "worker", "--threads", str(threads)], signal.SIGTERM),
        Child(
            "web",
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            signal.SIGINT,
        ),
    ]


def _die_with_parent() -> None:  # runs in the child, between fork and exec
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: Ctrl-C and a child's exit still stop everything


def supervise(plan: list[Child], *, poll: float = 0.2) -> int:
    """Start every child, wait for Ctrl-C, SIGTERM or a child's exit, then stop them all.

    Returns 0 after Ctrl-C or SIGTERM, else the exit status of the child that stopped first.
    """
    stop_requested: list[int] = []

    def request_stop(signum: int, frame: object) -> None:
        stop_requested.append(signum)

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    running: list[tuple[Child, subprocess.Popen[bytes]]] = []
    status = 0
    try:
        for child in plan:
            process = subprocess.Popen(  # noqa: S603 (our own commands)
                child.command, cwd=ROOT, start_new_session=True, preexec_fn=_die_with_parent
            )
            running.append((child, process))
        while not stop_requested:
            ended = [(c, p) for c, p in running if p.poll() is not None]
            if ended:
                child, process = ended[0]
                status = process.returncode or 1
                print(f"run: the {child.name} stopped (exit {process.returncode})", flush=True)
                break
            time.sleep(poll)
    finally:
        for child, process in running:
            _stop(child, process)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return status


def _stop(child: Child, process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(child.stop_signal)
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            print(f"run: the {child.name} did not stop in {STOP_SECONDS:g} s: killed", flush=True)
            process.kill()
            process.wait()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="the worker's threads (2)")
    args = parser.parse_args(argv)
    return supervise(children(args.threads))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
