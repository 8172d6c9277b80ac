"""``relhealth relationship …`` and ``relhealth wave …``."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup

from survey_app.cli.common import find_wave, one_transaction, wave_arguments
from survey_app.services import ServiceError
from survey_app.services.relationships import (
    all_relationships,
    create_relationship,
    get_relationship,
)
from survey_app.services.waves import close_wave, create_wave, open_wave, waves_in_time_order

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
@one_transaction
def wave_close(relationship: str, label: str) -> None:
    """Close an open wave: no more responses; unfinished drafts are deleted."""
    wave = close_wave(find_wave(relationship, label))
    click.echo(f"Wave {wave.label} is closed")


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
