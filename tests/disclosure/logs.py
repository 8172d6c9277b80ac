"""gunicorn's access log, written by gunicorn's own logger with the project's format, for the
requests a test client makes (as a deployment would log them)."""

from __future__ import annotations

import re
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r'^\[(?P<t>[^\]]+)\] "(?P<r>[^"]*)" (?P<s>\S+) (?P<b>\S+) (?P<M>\S+)ms$')


class AccessLog:
    def __init__(self, path: Path) -> None:
        settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
        config = Config()
        config.set("accesslog", str(path))
        config.set("access_log_format", settings["access_log_format"])
        self.path = path
        self.logger = Logger(config)

    def request(self, client, method: str, path: str, **kwargs):  # type: ignore[no-untyped-def]
        """Make the request with the test client and log it as gunicorn would."""
        response = client.open(path, method=method, **kwargs)
        body = response.get_data()
        environ = {
            "REQUEST_METHOD": method,
            "RAW_URI": path,
            "PATH_INFO": path.split("?")[0],
            "QUERY_STRING": "",
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        sent = SimpleNamespace(status=response.status, sent=len(body), headers=[])
        self.logger.access(sent, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=37))
        return response

    def lines(self) -> list[dict[str, str]]:
        for handler in self.logger.access_log.handlers:
            handler.flush()
        return [m.groupdict() for m in map(LINE.match, self.path.read_text().splitlines()) if m]

    def close(self) -> None:
        for handler in list(self.logger.access_log.handlers):
            handler.close()
            self.logger.access_log.removeHandler(handler)
