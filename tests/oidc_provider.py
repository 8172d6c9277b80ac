"""Real OpenID Providers for the tests: ``tests/oidc/provider.mjs`` (the OpenID-Certified npm
package ``oidc-provider``) on free ports of 127.0.0.1, one process per organisation.

:func:`serving` starts several providers at once, waits until each answers its discovery
document, sets ``AUTHLIB_INSECURE_TRANSPORT`` (the providers speak plain http on loopback), and
stops every process it started however the block ends. Each process also exits by itself when
its standard input closes, so none outlives a test run that is killed.

:data:`COUNCIL` and :data:`SUPPLIER` are the two organisations' providers the tests use: the
council's puts profile claims in userinfo only (as most providers do), the supplier's puts them
in the ID token (as Entra ID does). Besides the ordinary client of each, clients with test
switches make the provider misbehave in one way: an ID token that expires after one second and
arrives late, or one a conforming provider never issues (another audience, another key, claims
altered after signing).

:func:`follow_sign_in` plays the browser: it follows the provider's redirects (the provider signs
in the user named by ``login_hint`` without a form) until the provider sends it back to the
redirect URI, and returns that callback's query.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests
from joserfc.jwk import RSAKey

from tests.ports import free_port, stop_process

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "oidc" / "provider.mjs"
#: Where the service's callback would be; nothing listens there (the browser stops before it).
REDIRECT_URI = "http://127.0.0.1:5000/sign-in/callback"
START_TIMEOUT = 120.0  # bounds a hang only; the suite runs on a loaded machine


@dataclass(frozen=True)
class ProviderUser:
    sub: str
    email: str
    name: str
    email_verified: bool = True
    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    disabled: bool = False
    amr: tuple[str, ...] = ("pwd",)
    acr: str | None = None


@dataclass(frozen=True)
class ProviderClient:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...] = (REDIRECT_URI,)
    id_token_ttl: int | None = None
    token_delay_ms: int = 0
    #: "audience", "foreign_key" or "altered_claims": see tests/oidc/provider.mjs.
    tamper: str | None = None


@dataclass(frozen=True)
class ProviderSettings:
    name: str
    clients: tuple[ProviderClient, ...]
    users: tuple[ProviderUser, ...]
    claims_in_id_token: bool = False
    id_token_ttl: int = 3600
    pkce_required: bool = True

    def as_json(self, issuer: str) -> dict[str, object]:
        document = asdict(self)
        del document["name"]
        document["issuer"] = issuer
        document["signing_key"] = _signing_key(self.name)
        for client in document["clients"]:
            for key in [key for key, value in client.items() if value in (None, 0)]:
                del client[key]
        return document


@dataclass
class RunningProvider:
    settings: ProviderSettings
    issuer: str
    process: subprocess.Popen[bytes]
    log: Path
    started_in: float = field(default=0.0)

    def client(self, client_id: str) -> ProviderClient:
        return next(c for c in self.settings.clients if c.client_id == client_id)

    def user(self, sub: str) -> ProviderUser:
        return next(u for u in self.settings.users if u.sub == sub)


def _clients(prefix: str) -> tuple[ProviderClient, ...]:
    secret = f"{prefix}-secret-0123456789abcdef"
    return (
        ProviderClient(f"{prefix}-app", secret),
        ProviderClient(f"{prefix}-expiring", secret, id_token_ttl=1, token_delay_ms=1100),
        ProviderClient(f"{prefix}-wrong-audience", secret, tamper="audience"),
        ProviderClient(f"{prefix}-foreign-key", secret, tamper="foreign_key"),
        ProviderClient(f"{prefix}-altered-claims", secret, tamper="altered_claims"),
    )


COUNCIL = ProviderSettings(
    name="council",
    clients=_clients("council"),
    users=(
        ProviderUser(
            "c-ann", "ann@council.example", "Ann Archer", groups=("relationship-managers",)
        ),
        ProviderUser("c-ben", "ben@council.example", "Ben Booth", email_verified=False),
        ProviderUser("c-cat", "cat@council.example", "Cat Cole", disabled=True),
    ),
)

SUPPLIER = ProviderSettings(
    name="supplier",
    clients=_clients("supplier"),
    users=(
        ProviderUser(
            "s-dev",
            "dev@supplier.example",
            "Dev Dhillon",
            groups=("0b1c2d3e-partnership",),
            roles=("Survey.Reviewer",),
            amr=("pwd", "mfa"),
            acr="urn:supplier:mfa",
        ),
    ),
    claims_in_id_token=True,
)


@functools.cache
def _signing_key(provider_name: str) -> dict[str, object]:
    """One RSA key per provider and test run (generating one costs a few hundred ms of CPU)."""
    parameters = {"kid": secrets.token_hex(8), "alg": "RS256", "use": "sig"}
    return RSAKey.generate_key(2048, parameters=parameters, private=True).as_dict(private=True)


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError("node and the npm package oidc-provider are needed: run `make setup`")
    return node


def _start(settings: ProviderSettings, folder: Path) -> RunningProvider:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    config = folder / f"{settings.name}.json"
    config.write_text(json.dumps(settings.as_json(issuer)))
    log = folder / f"{settings.name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [_node(), str(SCRIPT), "--port", str(port), "--config", str(config)],
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    return RunningProvider(settings, issuer, process, log)


def _wait_until_ready(provider: RunningProvider, started: float) -> None:
    url = provider.issuer + "/.well-known/openid-configuration"
    while True:
        if provider.process.poll() is not None:
            raise RuntimeError(
                f"the {provider.settings.name} OpenID Provider exited:\n"
                + provider.log.read_text(errors="replace")
            )
        try:
            if requests.get(url, timeout=5).status_code == 200:
                provider.started_in = time.perf_counter() - started
                return
        except requests.RequestException:  # refused, or too slow to answer yet
            pass
        if time.perf_counter() - started > START_TIMEOUT:
            raise RuntimeError(f"the {provider.settings.name} OpenID Provider did not start")
        time.sleep(0.02)


def _stop(provider: RunningProvider) -> None:
    process = provider.process
    if process.stdin:
        process.stdin.close()  # the script exits when its standard input closes
    stop_process(process, timeout=3)


@contextmanager
def serving(*settings: ProviderSettings) -> Iterator[dict[str, RunningProvider]]:
    """Start one provider per settings at once; yield them by name; stop them all at the end."""
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="oidc-")))
        providers: dict[str, RunningProvider] = {}
        for one in settings:
            provider = _start(one, folder)
            stack.callback(_stop, provider)
            providers[one.name] = provider
        started = time.perf_counter()
        for provider in providers.values():
            _wait_until_ready(provider, started)
        previous = os.environ.get("AUTHLIB_INSECURE_TRANSPORT")
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
        try:
            yield providers
        finally:
            if previous is None:
                os.environ.pop("AUTHLIB_INSECURE_TRANSPORT", None)
            else:
                os.environ["AUTHLIB_INSECURE_TRANSPORT"] = previous


def follow_sign_in(authorization_url: str, redirect_uri: str = REDIRECT_URI) -> dict[str, str]:
    """Act as the browser until the provider sends it back to ``redirect_uri``; its query."""
    with requests.Session() as browser:
        url = authorization_url
        for _ in range(10):
            response = browser.get(url, allow_redirects=False, timeout=5)
            if response.status_code not in (302, 303):
                raise AssertionError(f"{url} answered {response.status_code}: {response.text}")
            url = urljoin(url, response.headers["Location"])
            if url.startswith(redirect_uri + "?"):
                return dict(parse_qsl(urlsplit(url).query))
    raise AssertionError("the provider kept redirecting")
