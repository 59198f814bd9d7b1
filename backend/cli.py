"""Command-line entry points: ``flask --app wsgi demo ...`` and ``flask --app wsgi registry ...``.

Commands print readable messages and exit non-zero on bad input; never a traceback."""
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from . import audit
from .extensions import db

demo_cli = AppGroup("demo", help="Demo data for a zero-setup start.")
registry_cli = AppGroup("registry", help="The insured-person registry.")


def register(app):
    app.cli.add_command(demo_cli)
    app.cli.add_command(registry_cli)


@demo_cli.command("seed")
def demo_seed():
    """Load the demo zone (idempotent) and print the demo logins."""
    from .demo.data import DEMO_PASSWORD
    from .demo.seed import seed

    logins = seed(db.session, current_app.config["ID_HASH_KEY"])
    click.echo("Demo data is in place. Demo logins (password: %s):" % DEMO_PASSWORD)
    for login, what in logins:
        click.echo(f"  {login:<18} {what}")


@registry_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, readable=True))
def registry_import(csv_file):
    """Import insured persons from CSV_FILE, all or nothing (see docs/registry-import.md)."""
    from .registry.importer import BadFile, import_persons

    def on_problem(line_no, reason):
        click.echo(f"line {line_no}: {reason}", err=True)

    with db.engine.connect() as connection, \
            open(csv_file, encoding="utf-8-sig", newline="") as stream:
        transaction = connection.begin()
        try:
            report = import_persons(
                connection, stream, id_hash_key=current_app.config["ID_HASH_KEY"],
                on_problem=on_problem, chunk_rows=current_app.config["IMPORT_CHUNK_ROWS"])
        except BadFile as error:
            transaction.rollback()
            raise click.ClickException(f"{csv_file}: {error}. Nothing was imported.") from None
        if not report.ok:
            transaction.rollback()
            click.echo(f"{report.bad_rows} bad row(s) in {report.rows}: nothing was imported.",
                       err=True)
            sys.exit(1)
        session = Session(bind=connection)
        audit.record(session, actor="cli:registry import", action="registry.import",
                     target_type="persons", target_id="csv",
                     detail={"rows": report.rows, "inserted": report.inserted,
                             "updated": report.updated})
        session.flush()
        transaction.commit()
    click.echo(f"Imported {report.rows} row(s): {report.inserted} new, {report.updated} updated.")
