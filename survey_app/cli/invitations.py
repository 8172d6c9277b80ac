"""``relhealth invite``, and ``send-invitations`` and ``send-reminders`` (the pages' ``mail.round``
job)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import click
from flask import current_app

from survey_app.cli.common import find_wave, one_transaction, wave_arguments
from survey_app.cli.jobs import inline_option, run_as_job
from survey_app.extensions import db
from survey_app.models import ROLE_LEVELS, Wave
from survey_app.services import ServiceError, mailing
from survey_app.services.invitations import issue_invitations, survey_link
from survey_app.services.jobs import round_job_key, round_job_title
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
    "--language",
    type=click.Choice(["en", "cy"]),
    help="The language the links open the survey in (en or cy; default: the reader's choice).",
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
    language: str | None,
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
    write_links_csv(output, issued, language)
    click.echo(f"Issued {len(issued)} invitations for {wave.label}; links written to {output}")


def write_links_csv(path: Path | None, issued: list[Any], language: str | None = None) -> None:
    handle = sys.stdout if path is None else path.open("x", newline="", encoding="utf-8-sig")
    try:
        writer = csv.writer(handle)
        writer.writerow(["link", "party", "side", "service_area", "role_level"])
        for inv in issued:
            writer.writerow(
                [
                    survey_link(inv.token, language),
                    inv.party,
                    inv.side,
                    inv.service_area or "",
                    inv.role_level or "",
                ]
            )
    finally:
        if path is not None:
            handle.close()


_RETRY_HELP = "Send to the addresses whose last message failed (instead of the new ones)."


@click.command("send-invitations")
@wave_arguments
@click.option("--retry-failed", is_flag=True, help=_RETRY_HELP)
@inline_option
def send_invitations(relationship: str, label: str, retry_failed: bool, inline: bool) -> None:
    """Email a personal link to everybody on wave LABEL's address list not yet invited.

    The round is the job the invitations page starts (mail.round, one round of a wave at a
    time): a worker sends it, crash-safe, at most MAIL_MAX_PER_MINUTE a minute, while this
    command prints its progress (--inline sends it from here). The links are in the messages
    only: nothing printed holds one.
    """
    _send_round("invitations", relationship, label, retry_failed, inline)


@click.command("send-reminders")
@wave_arguments
@click.option("--retry-failed", is_flag=True, help=_RETRY_HELP)
@inline_option
def send_reminders(relationship: str, label: str, retry_failed: bool, inline: bool) -> None:
    """Email a reminder with a new link to everybody on wave LABEL's list who has not submitted.

    One reminder round (the "Send reminders" button's job): it finishes a round left
    unfinished, or else starts the next one.
    """
    _send_round("reminders", relationship, label, retry_failed, inline)


def _send_round(kind: str, relationship: str, label: str, retry_failed: bool, inline: bool) -> None:
    """Check the round can go (a one-line error if not), run it as the page's job, then list
    the addresses it could not reach."""
    try:
        if not mailing.MailSettings.from_config().configured:
            raise ServiceError(
                "email is not set up: set SMTP_HOST and MAIL_FROM (see README, Administration), "
                "or download the mail-merge file from the wave's invitations page"
            )
        wave = find_wave(relationship, label)
        mailing.check_round(wave, kind)
        if not mailing.address_list_summary(wave).total:
            raise ServiceError(
                f"wave {wave.label} has no address list: upload a staff list for it first"
            )
        wave_id, wave_label, title = wave.id, wave.label, round_job_title(wave, kind)
        parameters: dict[str, Any] = {"wave_id": wave_id, "kind": kind}
        if retry_failed:
            parameters["retry_failed"] = True
            title = round_job_title(wave, kind, retry_failed=True)
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    job = run_as_job(
        "mail.round",
        parameters,
        key=round_job_key(wave_id, kind),
        title=title,
        relationship=db.session.get(Wave, wave_id).relationship,  # type: ignore[union-attr]
        inline=inline,
    )
    click.echo(f"{wave_label}: {job.summary_text or 'done'}")
    failed = mailing.failed_addresses(db.session.get(Wave, wave_id))  # type: ignore[arg-type]
    for email, why in failed:
        click.echo(f"Not sent to {email}: {why}", err=True)
    if failed:
        click.echo(
            f"Try the {len(failed)} again with: relhealth send-{kind} RELATIONSHIP LABEL "
            "--retry-failed",
            err=True,
        )


COMMANDS = (invite, send_invitations, send_reminders)
