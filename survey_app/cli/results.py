"""``relhealth recompute`` (the ``results.recompute`` job), ``export``, ``import`` and
``analyst-role``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from survey_app.cli.common import one_transaction, only_relationship
from survey_app.cli.jobs import inline_option, run_as_job
from survey_app.database import ANALYST_TABLES, grant_analyst_reads
from survey_app.extensions import db
from survey_app.models import Job, Relationship
from survey_app.services import ServiceError
from survey_app.services.exports import export_scope, prepare_download, record_download
from survey_app.services.imports import stage_import
from survey_app.services.jobs import import_title, recompute_key, recompute_title, unfinished_job
from survey_app.services.relationships import all_relationships, get_relationship
from survey_app.services.results import check_closed_wave, min_cell_size
from survey_app.services.waves import get_wave
from survey_app.texts import say


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
@inline_option
def import_command(file: Path, relationship: str | None, wave: str | None, inline: bool) -> None:
    """Import historical responses from FILE (CSV or XLSX in the responses layout).

    All or nothing: any bad row and nothing is stored; every problem is listed. The import
    page's job (responses.import): the file's top is checked here, then a worker imports and
    scores it while this command prints its progress (--inline does it here).
    """
    try:
        rel = only_relationship(relationship)
        try:
            with file.open("rb") as handle:
                staged = stage_import(handle, rel, filename=file.name, wave_label=wave)
        except OSError as exc:
            raise ServiceError(f"Cannot read {file}: {exc.strerror or exc}") from exc
        rel_id, title = rel.id, import_title(file.name, rel.name)
        db.session.rollback()  # what the check read; the job does the import
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    job = run_as_job(
        "responses.import",
        staged.parameters,
        key=staged.key,
        title=title,
        relationship=db.session.get(Relationship, rel_id),
        inline=inline,
    )
    for number, line in enumerate((job.result or {}).get("lines", [])):
        click.echo(("  " if number else "") + say(line))  # the waves under the headline


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
    help="Publish the rebuilt waves with this k instead of the one fixed when each was "
    "first computed (recorded in the audit log).",
)
@inline_option
def recompute(relationship: str | None, wave: str | None, new_k: int | None, inline: bool) -> None:
    """Rebuild the stored results of closed waves (scores, items, gaps ... and trends).

    Each relationship's rebuild is the job the admin page starts (one at a time per
    relationship): a worker runs it while this command prints its progress, or --inline runs
    it here. Each wave keeps the k (minimum cell size) in force when its results were first
    computed, whatever MIN_CELL_SIZE says now, unless --min-cell-size gives a new one.
    """
    try:
        if new_k is not None:
            min_cell_size(new_k)
        targets = _recompute_targets(relationship, wave)
        refusals = [_another_k(new_k)(running) for running in _unfinished(targets)]
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.rollback()
    if any(refusals):  # before any rebuild: never some relationships done, then refused
        raise click.ClickException("; ".join(r for r in refusals if r))
    if not targets:
        click.echo("There are no relationships: nothing to compute")
    for rel_id, rel_name, wave_id in targets:
        parameters: dict[str, int] = {"relationship_id": rel_id}
        if wave_id is not None:
            parameters["wave_id"] = wave_id
        if new_k is not None:
            parameters["min_cell_size"] = new_k
        job = run_as_job(
            "results.recompute",
            parameters,
            key=recompute_key(rel_id),
            title=recompute_title(rel_name),
            relationship=db.session.get(Relationship, rel_id),
            inline=inline,
            refuse_to_join=_another_k(new_k),
        )
        click.echo(job.summary_text or f"{rel_name}: done")


def _unfinished(targets: list[tuple[int, str, int | None]]) -> list[Job]:
    """The unfinished recompute of each target relationship that has one."""
    found = (unfinished_job(recompute_key(rel_id)) for rel_id, _, _ in targets)
    return [job for job in found if job is not None]


def _another_k(new_k: int | None) -> Callable[[Job], str | None]:
    """Joining an unfinished recompute is refused when it would publish with another k than
    the one asked for (``None``: each wave's own): following it would silently drop the k."""

    def refusal(running: Job) -> str | None:
        theirs = (running.parameters or {}).get("min_cell_size")
        if theirs == new_k:
            return None
        with_k = "each wave's own k" if theirs is None else f"k = {theirs}"
        asked = "each wave's own k" if new_k is None else f"--min-cell-size {new_k}"
        return (
            f"job {running.id} ({running.title_text}) is already queued or running with {with_k}; "
            f"following it would ignore {asked}. Wait for it to finish, then run this again"
        )

    return refusal


def _recompute_targets(
    relationship: str | None, wave: str | None
) -> list[tuple[int, str, int | None]]:
    """(relationship id, name, wave id or None) of each rebuild the arguments ask for."""
    relationships = [get_relationship(relationship)] if relationship else all_relationships()
    if wave is None:
        return [(rel.id, rel.name, None) for rel in relationships if rel is not None]
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
    check_closed_wave(rel, found)
    return [(rel.id, rel.name, found.id)]


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
