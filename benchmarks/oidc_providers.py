"""How fast the tests' OpenID Providers start, and what one sign-in costs (issue 14, part 2).

Target: the two organisations' providers (``tests/oidc_provider.py``: ``serving(COUNCIL,
SUPPLIER)``, two ``node tests/oidc/provider.mjs`` processes started at once) answer their
discovery documents within 2 s of being started.

Measured in the same run, each ``--rounds`` times (medians reported):

* ``node_s``       ``node -e ""``: starting node and nothing else;
* ``import_s``     ``node`` importing ``oidc-provider`` and exiting: the package's own floor;
* ``one_s``        one provider, from ``Popen`` to its discovery document answering;
* ``both_s``       both providers, started together, until both answer (the fixture's cost);
* ``import_cpu_s``  CPU seconds of that import (``RUSAGE_CHILDREN``);
* ``cpu_s``        CPU seconds the two provider processes used, start to stop;
* ``sign_in_ms``   one whole sign-in against the council's provider: ``begin_sign_in``, the
                   browser's redirects, ``complete_sign_in`` (token, JWKS cached, userinfo).

    .venv/bin/python benchmarks/oidc_providers.py [--rounds 5] [--sign-ins 20]

The machine is shared: the 1-minute load average is printed with the figures. The last line is
one JSON object.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: put the project root first, for `tests`
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

from survey_app.services.accounts import oidc  # noqa: E402
from tests.oidc_provider import (  # noqa: E402
    COUNCIL,
    REDIRECT_URI,
    ROOT,
    SUPPLIER,
    follow_sign_in,
    serving,
)

TARGET_S = 2.0


def _timed_node(*arguments: str) -> tuple[float, float]:
    """Wall and CPU seconds of one node process."""
    cpu = _children_cpu()
    started = time.perf_counter()
    subprocess.run(
        [shutil.which("node") or "node", *arguments], cwd=ROOT, check=True, capture_output=True
    )
    return time.perf_counter() - started, _children_cpu() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _start_both() -> tuple[float, float]:
    """Seconds until both answer, and the CPU seconds their processes used until stopped."""
    cpu = _children_cpu()
    started = time.perf_counter()
    with serving(COUNCIL, SUPPLIER):
        ready = time.perf_counter() - started
    return ready, _children_cpu() - cpu


def _start_one() -> float:
    started = time.perf_counter()
    with serving(COUNCIL):
        return time.perf_counter() - started


def _sign_ins(count: int) -> list[float]:
    with serving(COUNCIL) as providers:
        provider = providers["council"]
        client = provider.client("council-app")
        idp = oidc.IdentityProvider(provider.issuer, client.client_id, client.client_secret)
        oidc.complete_sign_in(idp, *_begin(idp))  # discovery and keys cached, as in service
        times = []
        for _ in range(count):
            started = time.perf_counter()
            oidc.complete_sign_in(idp, *_begin(idp))
            times.append((time.perf_counter() - started) * 1000)
    return times


def _begin(idp: oidc.IdentityProvider) -> tuple[oidc.PendingSignIn, dict[str, str]]:
    redirect = oidc.begin_sign_in(idp, REDIRECT_URI, login_hint="c-ann")
    return redirect.pending, follow_sign_in(redirect.url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sign-ins", type=int, default=20)
    options = parser.parse_args()
    load_before = os.getloadavg()[0]

    node, _ = zip(*(_timed_node("-e", "") for _ in range(options.rounds)), strict=True)
    imports, import_cpu = zip(
        *(
            _timed_node("--input-type=module", "-e", "await import('oidc-provider')")
            for _ in range(options.rounds)
        ),
        strict=True,
    )
    one = [_start_one() for _ in range(options.rounds)]
    both, cpu = zip(*(_start_both() for _ in range(options.rounds)), strict=True)
    sign_in = _sign_ins(options.sign_ins)

    figures = {
        "node_s": statistics.median(node),
        "import_s": statistics.median(imports),
        "one_s": statistics.median(one),
        "both_s": statistics.median(both),
        "both_max_s": max(both),
        "import_cpu_s": statistics.median(import_cpu),
        "cpu_s": statistics.median(cpu),
        "sign_in_ms": statistics.median(sign_in),
        "sign_in_max_ms": max(sign_in),
    }
    figures["both_over_import"] = figures["both_s"] / figures["import_s"]
    # CPU does not depend on what else the machine runs: two processes over twice the import
    figures["cpu_over_two_imports"] = figures["cpu_s"] / (2 * figures["import_cpu_s"])
    figures["target_s"] = TARGET_S
    figures["target_met"] = figures["both_max_s"] < TARGET_S
    figures["rounds"] = options.rounds
    figures["load1"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    for name, value in figures.items():
        shown = f"{value:.3f}" if isinstance(value, float) else value
        print(f"{name:>18}  {shown}")
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}))


if __name__ == "__main__":
    main()
