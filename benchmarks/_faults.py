"""Faults injected while the load runs: kill -9 a worker, or the whole server, at planned points."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks._browser import Respondent
from benchmarks._checks import Verdict
from benchmarks._server import GunicornServer


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
