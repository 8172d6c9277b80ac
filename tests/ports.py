"""For the servers a test starts (SMTP, OpenID Providers, gunicorn): a free TCP port of
127.0.0.1, and stopping the process."""

import socket
import subprocess


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen, *, timeout: float) -> None:
    """Wait up to ``timeout`` seconds for ``process``, asked to stop, to end; else kill it."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
