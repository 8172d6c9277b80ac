"""Sign-in through an organisation's OpenID Provider (OpenID Connect, authorization-code flow).

Two calls, made by two requests of the same browser:

1. :func:`begin_sign_in` discovers the provider, draws a fresh ``state``, ``nonce`` and PKCE
   ``code_verifier`` (S256), and returns the URL to redirect the browser to, with a
   :class:`PendingSignIn` that the caller keeps in the session.
2. :func:`complete_sign_in` takes the callback's query and the kept :class:`PendingSignIn`. It
   checks the state (and the ``iss`` of the response, RFC 9207), exchanges the code with the
   verifier, verifies the ID token's signature against the issuer's published keys (JWKS) and its
   claims (``iss``, ``aud``, ``azp``, ``exp``, ``iat``, ``nonce``, ``at_hash``), reads the
   userinfo endpoint when the ID token lacks the profile claims, and returns a
   :class:`VerifiedIdentity`.

The caller must *remove* the pending sign-in from the session before completing it, so that a
replayed callback finds none (:meth:`PendingSignIn.from_session` then raises
:class:`StateMismatch`). The provider refuses a code used twice as well.

Every failure is a :class:`SignInFailed` subclass whose message can be shown to the person
signing in; none carries a token. Plain ``http`` is refused, except to a loopback address while
``AUTHLIB_INSECURE_TRANSPORT`` is set (the tests' providers).

Nothing here knows users, organisations or Flask: accounts are keyed on
``(VerifiedIdentity.issuer, VerifiedIdentity.subject)`` by the caller, and the domain allow-list
must use ``email`` only when ``email_verified`` is true.

References: OpenID Connect Core 1.0 §3.1 (code flow; §3.1.3.7 ID token validation; §5.3.2
userinfo ``sub`` check); OpenID Connect Discovery 1.0 §4.3 (issuer match); RFC 7636 (PKCE);
RFC 9207 (authorization server issuer identification).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from survey_app.texts import N_

#: Seconds allowed for each HTTP request to a provider.
TIMEOUT = 10
#: Seconds of clock difference tolerated between this service and the provider (``exp``, ``iat``).
LEEWAY = 60
#: Seconds a started sign-in may take before its callback is refused (RFC 6749 advises codes
#: that live at most 10 minutes).
PENDING_LIFETIME = 600
#: Seconds the discovery document and the keys of an issuer are reused before being fetched again.
METADATA_LIFETIME = 3600
DEFAULT_SCOPES = ("openid", "email", "profile")
#: Signature algorithms accepted for ID tokens: asymmetric only, so that only the provider's
#: published keys can have signed them.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
_SESSION_FIELDS = ("issuer", "state", "nonce", "code_verifier", "redirect_uri")


# --- failures --------------------------------------------------------------------------------


class SignInFailed(Exception):
    """Signing in through the identity provider did not succeed; ``str(error)`` says why."""

    default_message = N_("Signing in through your organisation's identity provider did not work.")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class ProviderUnavailable(SignInFailed):
    """The provider did not answer, or answered with something that is not what it should be."""

    default_message = N_(
        "Your organisation's identity provider cannot be reached just now. Try again later."
    )


class ProviderMisconfigured(SignInFailed):
    """The provider's settings here do not match the provider (issuer, https, client)."""

    default_message = N_(
        "Signing in through your organisation's identity provider is not set up correctly. "
        "Tell the service's administrators."
    )


class SignInRefused(SignInFailed):
    """The provider answered the authorization request with an error (e.g. ``access_denied``)."""

    def __init__(self, error: str, description: str | None = None) -> None:
        self.error = error
        reason = f": {description}" if description else f" ({error})"
        super().__init__(f"Your organisation's identity provider refused the sign-in{reason}")


class StateMismatch(SignInFailed):
    """The callback does not belong to a sign-in started in this browser (forged or replayed)."""

    default_message = N_("This sign-in was not started here, or was already used. Start again.")


class SignInExpired(StateMismatch):
    """The callback came back later than :data:`PENDING_LIFETIME` after the sign-in began."""

    default_message = N_("The sign-in took too long to complete. Start again.")


class CodeRejected(SignInFailed):
    """The provider refused to exchange the authorization code (used twice, expired, PKCE)."""

    default_message = N_(
        "Your organisation's identity provider did not accept this sign-in: it may have been "
        "used already or have expired. Start again."
    )


class InvalidIDToken(SignInFailed):
    """The ID token cannot be trusted; the subclasses say which check failed."""

    default_message = N_(
        "The identity provider's answer could not be trusted, so you are not signed in."
    )


class IDTokenExpired(InvalidIDToken):
    default_message = N_(
        "The identity provider's answer had already expired when it arrived. Start again; if "
        "this keeps happening, tell the service's administrators."
    )


class AudienceMismatch(InvalidIDToken):
    default_message = N_(
        "The identity provider's answer was meant for another service, so you are not signed in."
    )


class SignatureInvalid(InvalidIDToken):
    default_message = N_(
        "The identity provider's answer is not signed by that provider, so you are not signed in."
    )


class NonceMismatch(InvalidIDToken):
    default_message = N_(
        "The identity provider's answer belongs to another sign-in, so you are not signed in. "
        "Start again."
    )


# --- values ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentityProvider:
    """One organisation's OpenID Provider as registered for this service."""

    issuer: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...] = DEFAULT_SCOPES

    def __post_init__(self) -> None:
        if "openid" not in self.scopes:
            raise ValueError("scopes must include 'openid', or the provider sends no ID token")
        if not (self.issuer and self.client_id and self.client_secret):
            raise ValueError("an identity provider needs an issuer, a client id and a secret")


@dataclass(frozen=True)
class PendingSignIn:
    """What the session keeps between the redirect and the callback (single use)."""

    issuer: str
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    started_at: float

    def to_session(self) -> dict[str, str | float]:
        """A JSON-serialisable dict for the session."""
        kept: dict[str, str | float] = {name: getattr(self, name) for name in _SESSION_FIELDS}
        kept["started_at"] = self.started_at
        return kept

    @classmethod
    def from_session(cls, kept: Mapping[str, Any] | None) -> PendingSignIn:
        """The pending sign-in kept by :meth:`to_session`; :class:`StateMismatch` when absent."""
        if not isinstance(kept, Mapping):
            raise StateMismatch()
        values = [kept.get(name) for name in _SESSION_FIELDS]
        started_at = kept.get("started_at")
        if not all(isinstance(value, str) and value for value in values) or not isinstance(
            started_at, int | float
        ):
            raise StateMismatch()
        return cls(*values, started_at=float(started_at))


@dataclass(frozen=True)
class AuthorizationRedirect:
    """Where to send the browser, and what to keep in the session until it comes back."""

    url: str
    pending: PendingSignIn


@dataclass(frozen=True)
class VerifiedIdentity:
    """Who signed in, as the provider vouched for them.

    ``(issuer, subject)`` identifies the person; ``email`` may be anybody's unless
    ``email_verified`` is true. ``groups`` and ``roles`` are the provider's own names (for Entra
    ID: group object ids and app roles). ``amr`` and ``acr`` say how the person authenticated.
    """

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    groups: tuple[str, ...]
    roles: tuple[str, ...]
    amr: tuple[str, ...]
    acr: str | None


# --- the two steps ---------------------------------------------------------------------------


def begin_sign_in(
    provider: IdentityProvider, redirect_uri: str, *, login_hint: str | None = None
) -> AuthorizationRedirect:
    """Build the authorization request for ``provider``, with a fresh state, nonce and verifier.

    ``redirect_uri`` must be registered with the provider (it is the callback's absolute URL).
    ``login_hint`` (an email address, say) is passed on for the provider to preselect the account.
    """
    metadata = discover(provider.issuer)
    pending = PendingSignIn(
        issuer=provider.issuer,
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),
        redirect_uri=redirect_uri,
        started_at=time.time(),
    )
    extra = {"login_hint": login_hint} if login_hint else {}
    with _client(provider, metadata, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"],
            state=pending.state,
            code_verifier=pending.code_verifier,
            nonce=pending.nonce,
            **extra,
        )
    return AuthorizationRedirect(url, pending)


def complete_sign_in(
    provider: IdentityProvider,
    pending: PendingSignIn,
    callback: Mapping[str, str],
    *,
    leeway: int = LEEWAY,
) -> VerifiedIdentity:
    """Finish the sign-in from the callback's query parameters and the kept ``pending``.

    Raises a :class:`SignInFailed` subclass when anything does not check out.
    """
    metadata = discover(provider.issuer)
    _check_callback(provider, metadata, pending, callback)
    with _client(provider, metadata, pending.redirect_uri) as client:
        token = _exchange_code(client, metadata, callback["code"], pending.code_verifier)
        claims = _verified_claims(provider, metadata, token, pending.nonce, leeway)
        if metadata.get("userinfo_endpoint") and not {"email", "name"} <= claims.keys():
            claims = {**_userinfo(client, metadata, claims["sub"]), **claims}
    return _identity(provider.issuer, claims)


def _check_callback(
    provider: IdentityProvider,
    metadata: dict[str, Any],
    pending: PendingSignIn,
    callback: Mapping[str, str],
) -> None:
    """State, issuer and age of the callback; the provider's own error if it sent one."""
    if pending.issuer != provider.issuer:
        raise StateMismatch()
    returned = str(callback.get("state", "")).encode("utf-8")  # bytes: any text compares
    if not hmac.compare_digest(returned, pending.state.encode("utf-8")):
        raise StateMismatch()
    if time.time() - pending.started_at > PENDING_LIFETIME:
        raise SignInExpired()
    iss_required = metadata.get("authorization_response_iss_parameter_supported") is True
    if ("iss" in callback or iss_required) and callback.get("iss") != provider.issuer:
        raise StateMismatch(
            "This sign-in came back from a different identity provider. Start again."
        )
    if "error" in callback:
        raise SignInRefused(str(callback["error"]), callback.get("error_description"))
    if not callback.get("code"):
        raise SignInRefused("invalid_request", "it sent no authorization code")


# --- provider documents ----------------------------------------------------------------------

_cache_lock = threading.Lock()
_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def discover(issuer: str) -> dict[str, Any]:
    """The issuer's OpenID Provider metadata (cached for :data:`METADATA_LIFETIME` seconds).

    Checked: it is a JSON object, its ``issuer`` is exactly ``issuer``, and the endpoints used here
    are present and use https (see the module docstring for loopback).
    """
    _require_secure(issuer)

    def fetch() -> dict[str, Any]:
        metadata = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        if metadata.get("issuer") != issuer:
            raise ProviderMisconfigured(
                f"The identity provider at {issuer} calls itself {metadata.get('issuer')!r}: "
                "the issuer set up here must be exactly the provider's own."
            )
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(metadata.get(name), str):
                raise ProviderUnavailable(f"The identity provider publishes no {name}.")
            _require_secure(metadata[name])
        if metadata.get("userinfo_endpoint"):
            _require_secure(metadata["userinfo_endpoint"])
        return metadata

    return _cached("metadata " + issuer, fetch)


def _signing_keys(metadata: dict[str, Any], *, refresh: bool = False) -> KeySet:
    uri = metadata["jwks_uri"]
    if refresh:
        _forget("jwks " + uri)
    try:
        return KeySet.import_key_set(_cached("jwks " + uri, lambda: _get_json(uri)))
    except (JoseError, ValueError, TypeError, KeyError) as error:
        _forget("jwks " + uri)  # fetch them again next time rather than keep what cannot be read
        raise ProviderUnavailable("The identity provider's signing keys cannot be read.") from error


def _cached(key: str, fetch: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
    if hit and now - hit[0] < METADATA_LIFETIME:
        return hit[1]
    value = fetch()
    with _cache_lock:
        _cache[key] = (now, value)
    return value


def _forget(key: str) -> None:
    with _cache_lock:
        _cache.pop(key, None)


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable() from error
    if not isinstance(document, dict):
        raise ProviderUnavailable()
    return document


def _require_secure(url: str) -> None:
    """https, or http to a loopback address while ``AUTHLIB_INSECURE_TRANSPORT`` is set."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and os.environ.get("AUTHLIB_INSECURE_TRANSPORT"):
        host = parts.hostname or ""
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return
    raise ProviderMisconfigured(
        f"The identity provider address {url} does not use https, so it cannot be trusted."
    )


# --- token, ID token, userinfo ---------------------------------------------------------------


def _client(
    provider: IdentityProvider, metadata: dict[str, Any], redirect_uri: str
) -> OAuth2Session:
    methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    basic = "client_secret_basic" in methods or "client_secret_post" not in methods
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        token_endpoint_auth_method="client_secret_basic" if basic else "client_secret_post",
        scope=" ".join(provider.scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        default_timeout=TIMEOUT,
    )


def _exchange_code(
    client: OAuth2Session, metadata: dict[str, Any], code: str, code_verifier: str
) -> dict[str, Any]:
    try:
        token = client.fetch_token(
            metadata["token_endpoint"],
            grant_type="authorization_code",
            code=code,
            code_verifier=code_verifier,
        )
    except OAuthError as error:
        if error.error in ("invalid_grant", "invalid_request"):
            raise CodeRejected() from error
        raise ProviderMisconfigured(
            "Your organisation's identity provider refused this service "
            f"({error.error}). Tell the service's administrators."
        ) from error
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable() from error
    if not isinstance(token.get("id_token"), str):
        raise InvalidIDToken("The identity provider did not say who you are (no ID token).")
    return dict(token)


def _verified_claims(
    provider: IdentityProvider,
    metadata: dict[str, Any],
    token: dict[str, Any],
    nonce: str,
    leeway: int,
) -> dict[str, Any]:
    """The ID token's claims once its signature and claims are checked (OIDC Core §3.1.3.7)."""
    advertised = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    registry = JWSRegistry(
        algorithms=[alg for alg in advertised if alg in SIGNING_ALGORITHMS],
        strict_check_header=False,
    )
    try:
        try:
            decoded = jwt.decode(token["id_token"], _signing_keys(metadata), registry=registry)
        except InvalidKeyIdError:  # the provider may have rotated its keys since we cached them
            keys = _signing_keys(metadata, refresh=True)
            decoded = jwt.decode(token["id_token"], keys, registry=registry)
        options = {
            "iss": {"essential": True, "value": provider.issuer},
            "sub": {"essential": True},
            "aud": {"essential": True, "validate": _only_audience(provider.client_id)},
        }
        params = {
            "nonce": nonce,
            "client_id": provider.client_id,
            "access_token": token.get("access_token"),
        }
        claims = CodeIDToken(decoded.claims, decoded.header, options, params)
        claims.validate(leeway=leeway)
    except (BadSignatureError, InvalidKeyIdError, UnsupportedAlgorithmError) as error:
        raise SignatureInvalid() from error
    except ExpiredTokenError as error:
        raise IDTokenExpired() from error
    except (InvalidClaimError, MissingClaimError) as error:
        raise _claim_failure(error.claim) from error
    except (JoseError, ValueError, TypeError) as error:
        raise InvalidIDToken() from error
    return dict(claims)


def _only_audience(client_id: str) -> Any:
    """An ``aud`` check: this client and no other audience (OIDC Core §3.1.3.7 step 3)."""

    def check(claims: Any, audience: Any) -> bool:
        audiences = audience if isinstance(audience, list) else [audience]
        return bool(audiences) and all(value == client_id for value in audiences)

    return check


def _claim_failure(claim: str) -> InvalidIDToken:
    if claim in ("aud", "azp"):
        return AudienceMismatch()
    if claim == "nonce":
        return NonceMismatch()
    if claim == "iss":
        return InvalidIDToken(
            "The identity provider's answer was issued by another provider, so you are not "
            "signed in."
        )
    return InvalidIDToken()


def _userinfo(client: OAuth2Session, metadata: dict[str, Any], subject: str) -> dict[str, Any]:
    """The userinfo claims, which must be about the ID token's subject (OIDC Core §5.3.2)."""
    try:
        response = client.get(metadata["userinfo_endpoint"], headers={"Accept": "application/json"})
        response.raise_for_status()
        claims = response.json()
    except (requests.RequestException, OAuthError, ValueError) as error:
        raise ProviderUnavailable() from error
    if not isinstance(claims, dict):
        raise ProviderUnavailable()
    if claims.get("sub") != subject:
        raise InvalidIDToken(
            "The identity provider described someone other than the person who signed in."
        )
    return claims


def _identity(issuer: str, claims: Mapping[str, Any]) -> VerifiedIdentity:
    email = claims.get("email")
    name = claims.get("name")
    acr = claims.get("acr")
    return VerifiedIdentity(
        issuer=issuer,
        subject=claims["sub"],
        email=email if isinstance(email, str) and email else None,
        email_verified=claims.get("email_verified") is True,
        name=name if isinstance(name, str) and name else None,
        groups=_strings(claims.get("groups")),
        roles=_strings(claims.get("roles")),
        amr=_strings(claims.get("amr")),
        acr=acr if isinstance(acr, str) and acr else None,
    )


def _strings(value: Any) -> tuple[str, ...]:
    """A claim that should be a list of strings; a lone string counts as a list of one."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()
