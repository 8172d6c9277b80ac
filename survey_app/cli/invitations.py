"""``relhealth invite``, ``send-invitations`` and ``send-reminders``."""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import current_app

from survey_app.cli.common import find_wave, one_transaction, wave_arguments
from survey_app.extensions import db
from survey_app.models import ROLE_LEVELS
from survey_app.services import ServiceError, mailing
from survey_app.services.invitations import issue_invitations, survey_link
from survey_app.services.relationships import get_service_area


@click.command("invite")
@wave_arguments
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
    wave = find_wave(relationship, label)
    service_area = get_service_area(wave.relationship, area) if area else None
    if output.exists():
        raise ServiceError(
            f"{output} already exists: choose a new file so no links are overwritten"
        )
    issued = issue_invitations(
        wave,
        side,
        count,
        service_area=service_area,
        role_level=role,
        min_area_group=current_app.config["MIN_CELL_SIZE"],
    )
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


_RETRY_HELP = (
    "Try again, once each, the addresses whose last message failed (instead of the new ones)."
)
_BATCH_HELP = "Messages per batch (default: MAIL_BATCH_SIZE)."


def _sending_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--retry-failed and --batch-size, of both sending commands."""
    command = click.option(
        "--batch-size", type=click.IntRange(min=1, max=100_000), help=_BATCH_HELP
    )(command)
    return click.option("--retry-failed", is_flag=True, help=_RETRY_HELP)(command)


@click.command("send-invitations")
@wave_arguments
@_sending_options
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
@wave_arguments
@_sending_options
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
    send = mailing.send_invitations if kind == "invitations" else mailing.send_reminders
    try:
        settings = mailing.MailSettings.from_config()
        if not settings.configured:
            raise ServiceError(
                "email is not set up: set SMTP_HOST and MAIL_FROM (see README, Administration), "
                "or download the mail-merge file from the wave's invitations page"
            )
        wave = find_wave(relationship, label)
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
                    find_wave(relationship, label),
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


COMMANDS = (invite, send_invitations, send_reminders)
