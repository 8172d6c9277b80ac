"""``relhealth report``: the board pack of a closed wave, as a tagged PDF."""

from __future__ import annotations

from pathlib import Path

import click

from survey_app.cli.common import one_transaction, only_relationship
from survey_app.services import ServiceError
from survey_app.services.dashboard import latest_closed_wave
from survey_app.services.reports import LANGUAGES, prepare_board_pack, record_board_pack
from survey_app.services.waves import get_wave


@click.command("report")
@click.option("--relationship", "-r", help="Relationship name or id (needed if there are several).")
@click.option("--wave", "-w", help="A closed wave's label (default: the latest closed wave).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File to write (default: board-pack-<relationship id>-<wave>.pdf here).",
)
@click.option("--language", type=click.Choice(list(LANGUAGES)), default="en", show_default=True)
@one_transaction
def report(relationship: str | None, wave: str | None, output: Path | None, language: str) -> None:
    """Write the board pack of a closed wave: an accessible, tagged PDF (PDF/UA-1).

    A one-page summary, the index over the waves up to it, perception gaps, hot spots,
    alerts with their evidence, actions and the change since each, targets, response rates
    and a page on the methods — published results only, as of that wave.
    """
    rel = only_relationship(relationship)
    chosen = get_wave(rel, wave) if wave else latest_closed_wave(rel)
    if chosen is None:
        raise ServiceError(f"relationship {rel.name!r} has no closed wave yet: nothing to report")
    pack = prepare_board_pack(rel, chosen, language=language)
    path = output or Path(pack.filename)
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(pack.data)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ServiceError(f"cannot write {path}: {exc.strerror or exc}") from exc
    record_board_pack(rel, chosen, actor="cli", language=language)
    click.echo(f"Wrote {path} (board pack of {rel.name}, {chosen.label}, {len(pack.data):,} bytes)")


COMMANDS = (report,)
