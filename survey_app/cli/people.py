"""``relhealth user …``, ``organisation oidc``, ``instrument check`` and ``demo``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from instruments import InstrumentError, available_instruments, load_instrument
from survey_app.cli.common import one_transaction
from survey_app.extensions import db
from survey_app.models import ROLES, Organisation
from survey_app.services import ServiceError
from survey_app.services.accounts.federated import configure_provider
from survey_app.services.accounts.users import create_user
from survey_app.services.demo import load_demo
from survey_app.services.invitations import survey_link
from survey_app.services.relationships import get_relationship

user_cli = AppGroup("user", help="Create sign-in accounts.")
organisation_cli = AppGroup("organisation", help="Organisations and their sign-in.")
instrument_cli = AppGroup("instrument", help="Check instrument definitions.")


@user_cli.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option(
    "--relationship",
    "relationships",
    multiple=True,
    help="Hold the role on this relationship only (repeat for several); default: service-wide.",
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="RELHEALTH_PASSWORD",
    help="Prompted for if not given (or set RELHEALTH_PASSWORD).",
)
@one_transaction
def user_create(
    email: str, name: str, role: str, relationships: tuple[str, ...], password: str
) -> None:
    """Create a sign-in account with a role (admin, manager or reviewer)."""
    scoped = [get_relationship(r) for r in relationships] if relationships else None
    user = create_user(email, name=name, role=role, password=password, relationships=scoped)  # type: ignore[arg-type]
    where = ", ".join(r.name for r in scoped) if scoped else "every relationship"  # type: ignore[union-attr]
    click.echo(f"Created {role} {user.email} of {where}")


@organisation_cli.command("oidc")
@click.argument("organisation")
@click.option("--issuer", required=True, help="The provider's issuer URL.")
@click.option("--client-id", required=True)
@click.option(
    "--client-secret",
    prompt=True,
    hide_input=True,
    envvar="RELHEALTH_OIDC_CLIENT_SECRET",
    help="Prompted for if not given (or set RELHEALTH_OIDC_CLIENT_SECRET).",
)
@click.option("--domain", "domains", multiple=True, required=True, help="Allowed e-mail domain.")
@click.option(
    "--group",
    "groups",
    multiple=True,
    metavar="GROUP=ROLE",
    help="A provider group or app role and the role it gives (repeat).",
)
@click.option("--local-passwords/--no-local-passwords", default=True, show_default=True)
@click.option("--admin-mfa", default=None, help="The amr value (or acr) an admin must carry.")
@one_transaction
def organisation_oidc(
    organisation: str,
    issuer: str,
    client_id: str,
    client_secret: str,
    domains: tuple[str, ...],
    groups: tuple[str, ...],
    local_passwords: bool,
    admin_mfa: str | None,
) -> None:
    """Let ORGANISATION's staff sign in through its OpenID Provider."""
    found = db.session.scalar(select(Organisation).where(Organisation.name == organisation))
    if found is None:
        raise ServiceError(f"there is no organisation {organisation!r}")
    mapping = {}
    for pair in groups:
        group, _, role = pair.rpartition("=")
        if not group:
            raise ServiceError(f"--group {pair!r}: write GROUP=ROLE")
        mapping[group] = role
    configure_provider(
        found,
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        email_domains=domains,
        group_roles=mapping,
        local_passwords_allowed=local_passwords,
        admin_mfa_claim=admin_mfa,
    )
    click.echo(f"{found.name} signs in through {issuer} (callback: /sign-in/callback)")


@instrument_cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def instrument_check(paths: tuple[Path, ...]) -> None:
    """Validate instrument files (all under instruments/ if none given)."""
    targets = list(paths) or [path for _, _, path in available_instruments()]
    failed = False
    for path in targets:
        try:
            inst = load_instrument(path)
        except InstrumentError as exc:
            failed = True
            click.echo(str(exc), err=True)
        else:
            click.echo(
                f"{path}: ok — {inst.key} v{inst.version}, {len(inst.dimensions)} dimensions, "
                f"{len(inst.items)} items, hash {inst.content_hash[:12]}"
            )
    if failed:
        raise click.exceptions.Exit(1)


@click.command("demo")
@click.option("--seed", type=int, default=2012, show_default=True)
@click.option("--links", type=click.IntRange(min=1, max=1000), default=5, show_default=True)
@one_transaction
def demo(seed: int, links: int) -> None:
    """Load the Birmingham demo (idempotent) and print fresh links for its open wave."""
    summary = load_demo(seed=seed, links=links, today=date.today())
    for line in summary.lines(survey_link):
        click.echo(line)


COMMANDS = (user_cli, organisation_cli, instrument_cli, demo)
