"""``relhealth recompute``, ``export``, ``import`` and ``analyst-role``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from survey_app.cli.common import one_transaction, only_relationship
from survey_app.database import ANALYST_TABLES, grant_analyst_reads
from survey_app.services import ServiceError
from survey_app.services.exports import export_scope, prepare_download, record_download
from survey_app.services.imports import import_responses
from survey_app.services.relationships import all_relationships, get_relationship
from survey_app.services.results import recompute as rebuild
from survey_app.services.waves import get_wave


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
    scope = export_scope(only_relationship(relationship), wave)
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
    report = import_responses(file, only_relationship(relationship), wave_label=wave, actor="cli")
    for line in report.lines():
        click.echo(line)


@click.command("recompute")
@click.option("--relationship", "-r", help="Relationship name or id (default: every one).")
@click.option(
    "--wave",
    help="Rebuild one closed wave (and any later one, whose status depends on it).",
)
@click.option(
    "--min-cell-size",
    "new_k",
    type=int,
    help="Publish the rebuilt waves with this k instead of the one fixed when each closed "
    "(recorded in the audit log).",
)
@one_transaction
def recompute(relationship: str | None, wave: str | None, new_k: int | None) -> None:
    """Rebuild the stored results of closed waves (scores, items, gaps ... and trends).

    Each wave keeps the k (minimum cell size) in force when its results were first
    computed, whatever MIN_CELL_SIZE says now, unless --min-cell-size gives a new one.
    """
    relationships = [get_relationship(relationship)] if relationship else all_relationships()
    if wave is None:
        if not relationships:
            click.echo("There are no relationships: nothing to compute")
        for rel in relationships:
            assert rel is not None
            click.echo(rebuild(rel, new_min_cell_size=new_k).line())
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
    click.echo(rebuild(rel, found, new_min_cell_size=new_k).line())


@click.command("analyst-role")
@click.argument("role")
@one_transaction
def analyst_role(role: str) -> None:
    """Let the existing PostgreSQL role ROLE read responses and results, never invitations."""
    try:
        grant_analyst_reads(role)
    except ValueError as exc:
        raise ServiceError(str(exc)) from exc
    click.echo(f"{role} may read: {', '.join(ANALYST_TABLES)}")


COMMANDS = (recompute, export, import_command, analyst_role)
