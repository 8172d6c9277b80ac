"""``relhealth user …``, ``instrument check`` and ``demo``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from instruments import InstrumentError, available_instruments, load_instrument
from survey_app.cli.common import one_transaction
from survey_app.models import ROLES
from survey_app.services.accounts.users import create_user
from survey_app.services.demo import load_demo
from survey_app.services.invitations import survey_link

user_cli = AppGroup("user", help="Create sign-in accounts.")
instrument_cli = AppGroup("instrument", help="Check instrument definitions.")


@user_cli.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="RELHEALTH_PASSWORD",
    help="Prompted for if not given (or set RELHEALTH_PASSWORD).",
)
@one_transaction
def user_create(email: str, name: str, role: str, password: str) -> None:
    """Create a sign-in account with a role (admin, manager or reviewer)."""
    user = create_user(email, name=name, role=role, password=password)
    click.echo(f"Created {user.role} {user.email}")


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


COMMANDS = (user_cli, instrument_cli, demo)
