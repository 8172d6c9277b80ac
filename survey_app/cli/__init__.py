"""The ``relhealth`` command group (a Flask CLI group over ``create_app``).

Every command commits once when it succeeds; a bad argument ends it with a one-line message
and a non-zero exit, having changed nothing. The commands live beside the part of the
service they drive: ``relationships`` (relationships and waves), ``invitations`` (links and
email), ``results`` (recompute, export, import), ``people`` (accounts, instruments, the demo),
``jobs`` (the background worker), ``reports`` (the board pack).
"""

from __future__ import annotations

from flask import Flask

from survey_app.cli import invitations, jobs, people, relationships, reports, results


def init_app(app: Flask) -> None:
    for module in (relationships, invitations, results, people, jobs, reports):
        for command in module.COMMANDS:
            app.cli.add_command(command)
