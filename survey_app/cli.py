"""The ``relhealth`` command group (a Flask CLI group over ``create_app``).

Every command commits once when it succeeds; a bad argument ends it with a
one-line message and a non-zero exit, having changed nothing.
"""

from __future__ import annotations

import csv
import functools
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup

from survey_app.extensions import db
from survey_app.models import ROLE_LEVELS, ROLES, Wave
from survey_app.services import ServiceError

relationship_cli = AppGroup("relationship", help="Create and list relationships.")
wave_cli = AppGroup("wave", help="Create, open, close and list survey waves.")
user_cli = AppGroup("user", help="Create sign-in accounts.")
instrument_cli = AppGroup("instrument", help="Check instrument definitions.")


def one_transaction(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Commit if the command succeeds; on a ServiceError roll back and exit 1 with its message."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
            db.session.commit()
            return result
        except ServiceError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        except BaseException:
            db.session.rollback()
            raise

    return wrapper


# ------------------------------------------------------------ relationships


@relationship_cli.command("create")
@click.argument("name")
@click.option("--client", required=True, help="The public body (client side).")
@click.option("--supplier", required=True, help="The supplier or joint venture.")
@click.option("--area", "areas", multiple=True, help="A service area (repeat for several).")
@one_transaction
def relationship_create(name: str, client: str, supplier: str, areas: tuple[str, ...]) -> None:
    """Create relationship NAME between a client and a supplier."""
    from survey_app.services.relationships import create_relationship

    rel = create_relationship(name, client=client, supplier=supplier, service_areas=list(areas))
    click.echo(f"Created relationship {rel.id}: {rel.name}")
    for area in rel.service_areas:
        click.echo(f"  service area {area.key}: {area.name}")


@relationship_cli.command("list")
def relationship_list() -> None:
    """List relationships with their parties and service areas."""
    from sqlalchemy import select

    from survey_app.models import Relationship

    for rel in db.session.scalars(select(Relationship).order_by(Relationship.id)):
        parties = " / ".join(f"{p.name} ({p.side})" for p in rel.parties)
        click.echo(
            f"{rel.id}\t{rel.name}\t{parties}\t{', '.join(a.key for a in rel.service_areas)}"
        )


# ------------------------------------------------------------ waves


def _wave(relationship: str, label: str) -> Wave:
    from survey_app.services.relationships import get_relationship
    from survey_app.services.waves import get_wave

    rel = get_relationship(relationship)
    assert rel is not None
    wave = get_wave(rel, label)
    assert wave is not None
    return wave


@wave_cli.command("create")
@click.argument("relationship")
@click.argument("label")
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
    from survey_app.services.relationships import get_relationship
    from survey_app.services.waves import create_wave

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
@click.argument("relationship")
@click.argument("label")
@one_transaction
def wave_open(relationship: str, label: str) -> None:
    """Open a draft wave for responses."""
    from survey_app.services.waves import open_wave

    wave = open_wave(_wave(relationship, label))
    click.echo(f"Wave {wave.label} is open")


@wave_cli.command("close")
@click.argument("relationship")
@click.argument("label")
@one_transaction
def wave_close(relationship: str, label: str) -> None:
    """Close an open wave: no more responses; unfinished drafts are deleted."""
    from survey_app.services.waves import close_wave

    wave = close_wave(_wave(relationship, label))
    click.echo(f"Wave {wave.label} is closed")


@wave_cli.command("list")
@click.argument("relationship")
def wave_list(relationship: str) -> None:
    """List the waves of RELATIONSHIP."""
    from sqlalchemy import select

    from survey_app.services.relationships import get_relationship

    try:
        rel = get_relationship(relationship)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    assert rel is not None
    for wave in db.session.scalars(
        select(Wave).where(Wave.relationship_id == rel.id).order_by(Wave.id)
    ):
        click.echo(
            f"{wave.label}\t{wave.state}\t{wave.instrument_version.key} v{wave.instrument_version.version}"
        )


# ------------------------------------------------------------ invitations


def survey_link(token: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/s/{token}"


@click.command("invite")
@click.argument("relationship")
@click.argument("label")
@click.option("--side", type=click.Choice(["client", "supplier"]), required=True)
@click.option("-n", "--count", type=click.IntRange(min=1, max=100_000), required=True)
@click.option("--area", help="Service area key or name the invitations are fixed to.")
@click.option(
    "--role", type=click.Choice(list(ROLE_LEVELS)), help="Role level fixed by the invitations."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="CSV file for the personal links (they are shown only this once).",
)
@one_transaction
def invite(
    relationship: str,
    label: str,
    side: str,
    count: int,
    area: str | None,
    role: str | None,
    output: Path,
) -> None:
    """Issue COUNT invitations to wave LABEL for one side, writing a CSV of personal links."""
    from survey_app.services.invitations import issue_invitations
    from survey_app.services.relationships import get_service_area

    wave = _wave(relationship, label)
    service_area = get_service_area(wave.relationship, area) if area else None
    if output.exists():
        raise ServiceError(
            f"{output} already exists: choose a new file so no links are overwritten"
        )
    issued = issue_invitations(wave, side, count, service_area=service_area, role_level=role)
    write_links_csv(output, issued)
    click.echo(f"Issued {len(issued)} invitations for {wave.label}; links written to {output}")


def write_links_csv(path: Path | None, issued: list[Any]) -> None:
    handle = sys.stdout if path is None else path.open("x", newline="", encoding="utf-8-sig")
    try:
        writer = csv.writer(handle)
        writer.writerow(["link", "party", "side", "service_area", "role_level"])
        for inv in issued:
            writer.writerow(
                [
                    survey_link(inv.token),
                    inv.party,
                    inv.side,
                    inv.service_area or "",
                    inv.role_level or "",
                ]
            )
    finally:
        if path is not None:
            handle.close()


# ------------------------------------------------------------ email


_RETRY_HELP = (
    "Try again, once each, the addresses whose last message failed (instead of the new ones)."
)
_BATCH_HELP = "Messages per batch (default: MAIL_BATCH_SIZE)."


@click.command("send-invitations")
@click.argument("relationship")
@click.argument("label")
@click.option("--retry-failed", is_flag=True, help=_RETRY_HELP)
@click.option("--batch-size", type=click.IntRange(min=1, max=100_000), help=_BATCH_HELP)
def send_invitations(
    relationship: str, label: str, retry_failed: bool, batch_size: int | None
) -> None:
    """Email a personal link to everybody on wave LABEL's address list not yet invited.

    Sends batch by batch through the SMTP server (SMTP_* and MAIL_FROM settings), at most
    MAIL_MAX_PER_MINUTE a minute, printing each batch and a summary. The links are in the
    messages only: nothing printed holds one.
    """
    _send_all("invitations", relationship, label, retry_failed, batch_size)


@click.command("send-reminders")
@click.argument("relationship")
@click.argument("label")
@click.option("--retry-failed", is_flag=True, help=_RETRY_HELP)
@click.option("--batch-size", type=click.IntRange(min=1, max=100_000), help=_BATCH_HELP)
def send_reminders(
    relationship: str, label: str, retry_failed: bool, batch_size: int | None
) -> None:
    """Email a reminder with a new link to everybody on wave LABEL's list who has not submitted.

    One reminder round: it finishes a round left unfinished, or else starts the next one.
    Sends batch by batch, as send-invitations does.
    """
    _send_all("reminders", relationship, label, retry_failed, batch_size)


def _send_all(
    kind: str, relationship: str, label: str, retry_failed: bool, batch_size: int | None
) -> None:
    """Run the mailing service batch after batch until nothing is left (or the server stops
    it); exit 1 with a one-line message on a bad argument or a server that cannot be used."""
    import time

    from survey_app.services import mailing

    send = mailing.send_invitations if kind == "invitations" else mailing.send_reminders
    try:
        settings = mailing.MailSettings.from_config()
        if not settings.configured:
            raise ServiceError(
                "email is not set up: set SMTP_HOST and MAIL_FROM (see README, Administration), "
                "or download the mail-merge file from the wave's invitations page"
            )
        wave = _wave(relationship, label)
        if wave.state != "open":
            raise ServiceError(
                f"wave {wave.label} is {wave.state}: {kind} go only while it is open"
            )
        summary = mailing.address_list_summary(wave)
        if not summary.total:
            raise ServiceError(
                f"wave {wave.label} has no address list: upload a staff list for it first"
            )
        wave_label = wave.label
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc

    size = batch_size or settings.batch_size
    if retry_failed:  # one pass over every failed address: a refused one stays failed
        size = max(1, summary.failed)
    sent = 0
    refused: list[tuple[str, str]] = []
    failed: list[tuple[str, str]] = []
    stopped: str | None = None
    batch = 0
    with mailing.SMTPMailer(settings) as mailer:
        while True:
            if batch and settings.interval:
                time.sleep(settings.interval)  # the pace holds from one batch to the next
            batch += 1
            try:
                report = send(
                    _wave(relationship, label),
                    actor="cli",
                    retry_failed=retry_failed,
                    limit=size,
                    mailer=mailer,
                )
            except ServiceError as exc:  # e.g. the wave closed meanwhile
                db.session.rollback()
                stopped = str(exc)
                break
            db.session.commit()
            sent += report.sent
            refused += report.refused
            failed += [f for f in report.failed if f not in report.refused]
            attempted = report.sent + len(report.failed)
            if attempted or report.stopped:
                click.echo(
                    f"Batch {batch}: {report.sent} sent, {len(report.refused)} refused, "
                    f"{len(report.failed) - len(report.refused)} failed"
                    + (f"; {report.remaining} still to send" if report.remaining else "")
                )
            stopped = report.stopped
            if stopped or retry_failed or not report.remaining or not attempted:
                break

    for email, why in refused + failed:
        click.echo(f"Not sent to {email}: {why}", err=True)
    noun = kind if sent != 1 else kind[:-1]
    click.echo(
        f"{wave_label}: {sent} {noun} sent, {len(refused)} refused, {len(failed)} failed"
        + ("" if sent or refused or failed or stopped else " (nobody was waiting for one)")
    )
    if refused or failed:
        click.echo(
            f"Try the {len(refused) + len(failed)} again with: relhealth send-{kind} "
            "RELATIONSHIP LABEL --retry-failed",
            err=True,
        )
    if stopped:
        raise click.ClickException(f"sending stopped: {stopped}")


# ------------------------------------------------------------ users


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
    from survey_app.services.users import create_user

    user = create_user(email, name=name, role=role, password=password)
    click.echo(f"Created {user.role} {user.email}")


# ------------------------------------------------------------ instruments


@instrument_cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def instrument_check(paths: tuple[Path, ...]) -> None:
    """Validate instrument files (all under instruments/ if none given)."""
    from instruments import InstrumentError, available_instruments, load_instrument

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


# ------------------------------------------------------------ demo


@click.command("demo")
@click.option("--seed", type=int, default=2012, show_default=True)
@click.option("--links", type=click.IntRange(min=1, max=1000), default=5, show_default=True)
@one_transaction
def demo(seed: int, links: int) -> None:
    """Load the Birmingham demo (idempotent) and print fresh links for its open wave."""
    from survey_app.services.demo import load_demo

    summary = load_demo(seed=seed, links=links, today=date.today())
    for line in summary.lines(survey_link):
        click.echo(line)


# ------------------------------------------------------------ export and import


def _only_relationship(relationship: str | None) -> Any:
    """The relationship named, or the only one there is."""
    from sqlalchemy import func, select

    from survey_app.models import Relationship
    from survey_app.services.relationships import get_relationship

    if relationship:
        return get_relationship(relationship)
    count = db.session.scalar(select(func.count()).select_from(Relationship))
    if count != 1:
        raise ServiceError(
            f"name the relationship with --relationship (there are {count or 'no'} relationships)"
        )
    return db.session.scalar(select(Relationship))


@click.command("export")
@click.option(
    "--table",
    required=True,
    type=click.Choice(["scores", "items", "reliability", "gaps", "trends", "drivers",
                       "responses", "codebook", "all"]),
    help="Which table (all = every results table in one workbook, XLSX only).",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx", "json", "sav"]), default="csv",
    show_default=True,
)  # fmt: skip
@click.option("--relationship", "-r", help="Relationship name or id (needed if there are several).")
@click.option("--wave", help="One closed wave's label (default: all closed waves).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File to write (default: standard output).",
)
@one_transaction
def export(
    table: str, fmt: str, relationship: str | None, wave: str | None, output: Path | None
) -> None:
    """Write a download (a results table, the raw responses or the codebook) to a file or stdout."""
    from survey_app.services.exports import export_scope, prepare_download, record_download

    scope = export_scope(_only_relationship(relationship), wave)
    download = prepare_download(table, fmt, scope)
    if output is None:
        stream = sys.stdout.buffer
        for chunk in download.chunks:
            stream.write(chunk)
        stream.flush()
    else:
        partial = output.with_name(f".{output.name}.partial")
        try:
            with partial.open("wb") as handle:
                for chunk in download.chunks:
                    handle.write(chunk)
            partial.replace(output)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        click.echo(f"Wrote {output} ({table}, {fmt}, {scope.description})", err=True)
    record_download(download, actor="cli")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--relationship", "-r", help="Relationship name or id (needed if there are several).")
@click.option("--wave", help="Import only this wave's rows (rows with a blank wave get it).")
@one_transaction
def import_command(file: Path, relationship: str | None, wave: str | None) -> None:
    """Import historical responses from FILE (CSV or XLSX in the responses layout).

    All or nothing: any bad row and nothing is stored; every problem is listed.
    """
    from survey_app.services.imports import import_responses

    report = import_responses(file, _only_relationship(relationship), wave_label=wave, actor="cli")
    for line in report.lines():
        click.echo(line)


# ------------------------------------------------------------ results


@click.command("recompute")
@click.option("--relationship", "-r", help="Relationship name or id (default: every one).")
@click.option(
    "--wave",
    help="Rebuild one closed wave (and any later one, whose status depends on it).",
)
@one_transaction
def recompute(relationship: str | None, wave: str | None) -> None:
    """Rebuild the stored results of closed waves (scores, items, gaps ... and trends)."""
    from sqlalchemy import select

    from survey_app.models import Relationship
    from survey_app.services.relationships import get_relationship
    from survey_app.services.results import recompute as rebuild
    from survey_app.services.waves import get_wave

    if relationship:
        relationships = [get_relationship(relationship)]
    else:
        relationships = list(db.session.scalars(select(Relationship).order_by(Relationship.id)))
    if wave is None:
        if not relationships:
            click.echo("There are no relationships: nothing to compute")
        for rel in relationships:
            assert rel is not None
            click.echo(rebuild(rel).line())
        return
    matches = [
        (rel, found)
        for rel in relationships
        if rel is not None and (found := get_wave(rel, wave, required=False)) is not None
    ]
    if not matches:
        if relationship:
            raise ServiceError(f"relationship {relationship!r} has no wave {wave!r}")
        raise ServiceError(f"no relationship has a wave {wave!r}")
    if len(matches) > 1:
        raise ServiceError(
            f"several relationships have a wave {wave!r}: name one with --relationship"
        )
    rel, found = matches[0]
    click.echo(rebuild(rel, found).line())


def init_app(app: Flask) -> None:
    for group in (relationship_cli, wave_cli, user_cli, instrument_cli):
        app.cli.add_command(group)
    app.cli.add_command(recompute)
    app.cli.add_command(invite)
    app.cli.add_command(send_invitations)
    app.cli.add_command(send_reminders)
    app.cli.add_command(demo)
    app.cli.add_command(export)
    app.cli.add_command(import_command)


def main() -> None:
    from survey_app import create_app

    cli = FlaskGroup(create_app=create_app, help="Relationship Health: survey and scoring service.")
    cli(prog_name="relhealth")
