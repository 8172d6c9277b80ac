"""``relhealth relationship …`` and ``relhealth wave …``."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from survey_app.cli.common import find_wave, one_transaction, wave_arguments
from survey_app.cli.jobs import inline_option, run_as_job
from survey_app.extensions import db
from survey_app.models import Relationship
from survey_app.services import ServiceError
from survey_app.services.jobs import close_job_key, close_job_title
from survey_app.services.relationships import (
    all_relationships,
    create_relationship,
    get_relationship,
    set_norms_consent,
    set_privacy_notice,
)
from survey_app.services.waves import (
    check_can_close,
    create_wave,
    open_wave,
    waves_in_time_order,
)

relationship_cli = AppGroup("relationship", help="Create and list relationships.")
wave_cli = AppGroup("wave", help="Create, open, close and list survey waves.")
COMMANDS = (relationship_cli, wave_cli)


@relationship_cli.command("create")
@click.argument("name")
@click.option("--client", required=True, help="The public body (client side).")
@click.option("--supplier", required=True, help="The supplier or joint venture.")
@click.option("--area", "areas", multiple=True, help="A service area (repeat for several).")
@one_transaction
def relationship_create(name: str, client: str, supplier: str, areas: tuple[str, ...]) -> None:
    """Create relationship NAME between a client and a supplier."""
    rel = create_relationship(name, client=client, supplier=supplier, service_areas=list(areas))
    click.echo(f"Created relationship {rel.id}: {rel.name}")
    for area in rel.service_areas:
        click.echo(f"  service area {area.key}: {area.name}")


@relationship_cli.command("list")
def relationship_list() -> None:
    """List relationships with their parties and service areas."""
    for rel in all_relationships():
        parties = " / ".join(f"{p.name} ({p.side})" for p in rel.parties)
        click.echo(
            f"{rel.id}\t{rel.name}\t{parties}\t{', '.join(a.key for a in rel.service_areas)}"
        )


@relationship_cli.command("norms")
@click.argument("relationship")
@click.option("--side", type=click.Choice(["client", "supplier"]), required=True)
@click.option("--agree/--withdraw", default=True, help="Agree (default) or withdraw.")
@one_transaction
def relationship_norms(relationship: str, side: str, agree: bool) -> None:
    """Record whether SIDE's organisation agrees that RELATIONSHIP counts in the norms."""
    rel = get_relationship(relationship)
    party = set_norms_consent(rel, side, agree)
    both = all(p.in_norms for p in rel.parties)
    click.echo(
        f"{party.name} {'agrees' if agree else 'does not agree'}: {rel.name} "
        f"{'counts' if both else 'does not count'} in the norms"
    )


@relationship_cli.command("privacy")
@click.argument("relationship")
@click.option("--controller", type=click.Choice(["client", "supplier"]), help="Who runs it.")
@click.option("--contact", help="Whom respondents contact about their data (e.g. a DPO).")
@click.option("--lawful-basis", help="The lawful basis for processing the answers.")
@click.option("--retention-months", type=int, help="How long results are kept (1 to 120).")
@one_transaction
def relationship_privacy(
    relationship: str,
    controller: str | None,
    contact: str | None,
    lawful_basis: str | None,
    retention_months: int | None,
) -> None:
    """Set what RELATIONSHIP's privacy notice says (shown at /privacy/<id>)."""
    rel = set_privacy_notice(
        get_relationship(relationship),
        controller_side=controller,
        contact=contact,
        lawful_basis=lawful_basis,
        retention_months=retention_months,
    )
    click.echo(
        f"{rel.name}: controller {rel.party(rel.controller_side).name}; contact "
        f"{rel.privacy_contact or 'not set'}; results kept {rel.retention_months} months"
    )


@wave_cli.command("create")
@wave_arguments
@click.option("--instrument", "instrument_key", default="partnership-health", show_default=True)
@click.option(
    "--version", "instrument_version", type=click.IntRange(min=1), default=1, show_default=True
)
@click.option("--closes", type=click.DateTime(formats=["%Y-%m-%d"]), help="Planned closing date.")
@one_transaction
def wave_create(
    relationship: str, label: str, instrument_key: str, instrument_version: int, closes: Any
) -> None:
    """Create a draft wave LABEL of RELATIONSHIP (name or id) on an instrument version."""
    rel = get_relationship(relationship)
    assert rel is not None
    wave = create_wave(
        rel,
        label,
        instrument_key=instrument_key,
        instrument_version=instrument_version,
        closes_on=closes.date() if closes else None,
    )
    version = wave.instrument_version
    click.echo(
        f"Created draft wave {wave.label} on {version.key} v{version.version} "
        f"(content hash {version.content_hash[:12]})"
    )


@wave_cli.command("open")
@wave_arguments
@one_transaction
def wave_open(relationship: str, label: str) -> None:
    """Open a draft wave for responses."""
    wave = open_wave(find_wave(relationship, label))
    click.echo(f"Wave {wave.label} is open")


@wave_cli.command("close")
@wave_arguments
@inline_option
def wave_close(relationship: str, label: str, inline: bool) -> None:
    """Close an open wave and compute its results: no more responses; unfinished drafts and
    the address list are deleted. The "Close wave" button's job (wave.close): a worker runs
    it while this command prints its progress, or --inline runs it here."""
    try:
        wave = find_wave(relationship, label)
        check_can_close(wave)
        wave_id, title, rel_id = wave.id, close_job_title(wave), wave.relationship_id
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    job = run_as_job(
        "wave.close",
        {"wave_id": wave_id},
        key=close_job_key(wave_id),
        title=title,
        relationship=db.session.get(Relationship, rel_id),
        inline=inline,
    )
    click.echo(job.summary_text or f"Wave {label} is closed")


@wave_cli.command("list")
@click.argument("relationship")
def wave_list(relationship: str) -> None:
    """List the waves of RELATIONSHIP."""
    try:
        rel = get_relationship(relationship)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    assert rel is not None
    for wave in waves_in_time_order(rel):
        click.echo(
            f"{wave.label}\t{wave.state}\t{wave.instrument_version.key} v{wave.instrument_version.version}"
        )
