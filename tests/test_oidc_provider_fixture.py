"""The tests' OpenID Providers (tests/oidc_provider.py) leave no process behind, whatever happens."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace

import psutil
import pytest
import requests

from tests.oidc_provider import COUNCIL, ROOT, SUPPLIER, serving


def provider_processes() -> list[psutil.Process]:
    """This test process's children running tests/oidc/provider.mjs."""
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if any("provider.mjs" in part for part in child.cmdline())
    ]


def gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(
            psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in pids
        ):
            return True
        time.sleep(0.05)
    return False


def test_both_providers_answer_and_stop_when_a_test_fails():
    with pytest.raises(RuntimeError, match="a test failed"), serving(COUNCIL, SUPPLIER) as running:
        assert len(provider_processes()) == 2
        for provider in running.values():
            document = requests.get(provider.issuer + "/.well-known/openid-configuration").json()
            assert document["issuer"] == provider.issuer
        raise RuntimeError("a test failed")
    assert provider_processes() == []
    assert "AUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_a_provider_that_cannot_start_stops_the_other_and_says_why():
    broken = replace(SUPPLIER, clients=())
    with (
        pytest.raises(RuntimeError, match="at least one client is needed"),
        serving(COUNCIL, broken),
    ):
        pass  # pragma: no cover - never reached
    assert provider_processes() == []


def test_the_providers_exit_when_the_test_process_is_killed():
    # a test run killed outright runs no cleanup: the providers see their stdin close and exit
    script = (
        "import os, signal\n"
        "from tests.oidc_provider import COUNCIL, SUPPLIER, serving\n"
        "with serving(COUNCIL, SUPPLIER) as running:\n"
        "    print(next(iter(running.values())).log.parent, flush=True)\n"
        "    print(*(p.process.pid for p in running.values()), flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert killed.returncode == -9, killed.stderr
    folder, pids = killed.stdout.splitlines()
    shutil.rmtree(folder)  # the settings files: nothing was left to remove them
    pids = [int(pid) for pid in pids.split()]
    assert len(pids) == 2
    assert gone_within(pids, 5)
