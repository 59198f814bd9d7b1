"""Command-line entry points: ``flask --app wsgi demo ...`` and ``flask --app wsgi registry ...``.

Commands print readable messages and exit non-zero on bad input; never a traceback."""
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from .oversight import audit
from .service.extensions import db

demo_cli = AppGroup("demo", help="Demo data for a zero-setup start.")
registry_cli = AppGroup("registry", help="The insured-person registry.")
keys_cli = AppGroup("keys", help="The issuer's signing keys.")


def register(app):
    for group in (demo_cli, registry_cli, keys_cli):
        app.cli.add_command(group)


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
    import time

    from .patients import credentials
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
        # A row may have suspended a person: their phones are revoked in the same transaction.
        revoked = credentials.revoke_suspended(session, int(time.time()))
        audit.record(session, actor="cli:registry import", action="registry.import",
                     target_type="persons", target_id="csv",
                     detail={"rows": report.rows, "inserted": report.inserted,
                             "updated": report.updated, "revoked_credentials": revoked})
        session.flush()
        transaction.commit()
    click.echo(f"Imported {report.rows} row(s): {report.inserted} new, {report.updated} updated.")


@keys_cli.command("list")
def keys_list():
    """Show every published key and its schedule (no private material)."""
    from .service.issuer import locked_ring

    with locked_ring(current_app) as ring:
        for entry in ring.describe():
            click.echo("  ".join(f"{k}={v}" for k, v in entry.items()))


@keys_cli.command("rotate")
@click.option("--overlap", type=click.IntRange(min=0), default=None,
              help="Seconds the new key is published before it signs (default: config).")
def keys_rotate(overlap):
    """Publish a new key now; it signs after the overlap. The old key stays published until
    every credential it signed has expired."""
    import time

    from .certificates.issuing import signed_lifetime
    from .service.issuer import locked_ring

    now = int(time.time())
    overlap = current_app.config["KEY_ROTATION_OVERLAP"] if overlap is None else overlap
    with locked_ring(current_app, now) as ring:
        new = ring.rotate(now, overlap, signed_lifetime(current_app.config["CREDENTIAL_LIFETIME"]))
        dropped = ring.prune(now)
    session = db.session
    audit.record(session, actor="cli:keys rotate", action="keys.rotate", target_type="key",
                 target_id=new.kid, detail={"overlap": overlap, "dropped": dropped})
    session.commit()
    click.echo(f"New key {new.kid} is published now and signs from {new.signs_from} "
               f"(in {overlap} s). Dropped: {', '.join(dropped) or 'none'}.")


@demo_cli.command("code")
@click.option("--kind", type=click.Choice(["med", "ss"]), default="med", show_default=True)
@click.option("--login", default="demo-patient", show_default=True,
              help="A patient login whose demo phone makes the code.")
@click.option("--qr", "qr_path", type=click.Path(dir_okay=False, writable=True),
              help="Also write the code as a QR image (.png or .svg).")
@click.option("--replace", is_flag=True,
              help="Activate the demo phone even if the person uses another phone (which stops it).")
def demo_code(kind, login, qr_path, replace):
    """Print a fresh code from a demo phone whose key the server keeps (DEMO ONLY)."""
    import time

    from sqlalchemy import select

    from .demo.phone import DemoPhone, PhoneInUse
    from .models.base import china_iso
    from .models import Account
    from .service.extensions import redis_client
    from .service.issuer import current_ring

    if not current_app.config["DEMO_MODE"]:
        raise click.ClickException("Demo phones exist only in demo mode (YIMA_DEMO_MODE=1).")
    if qr_path and not qr_path.lower().endswith((".png", ".svg")):
        raise click.ClickException("--qr must name a .png or .svg file.")
    account = db.session.scalars(select(Account).filter_by(login=login)).first()
    if account is None or account.role != "patient":
        raise click.ClickException(f"{login!r} is not a patient login (try demo-patient).")
    phone = DemoPhone(current_app.config["INSTANCE_PATH"], login)
    now = int(time.time())
    try:
        issued, replaced = phone.credentials(
            db.session, redis_client.client(), account=account, ring=current_ring(), now=now,
            lifetime=current_app.config["CREDENTIAL_LIFETIME"], replace=replace)
    except PhoneInUse as in_use:
        phones = ", ".join(f"#{d.id} (activated {china_iso(d.created_at)[:16].replace('T', ' ')})"
                           for d in in_use.devices)
        raise click.ClickException(
            f"{login} shows their codes on phone {phones}. A demo code needs the demo phone, and "
            f"activating it would stop the codes on that phone at once. Nothing was changed. "
            f"Run again with --replace to do it anyway, or use another --login.") from None
    if replaced:
        click.echo(f"(demo phone activated for {login}; it replaced phone(s) {replaced})", err=True)
    code = phone.code(issued[kind], now)
    click.echo(code)
    if qr_path:
        from .service import qr

        if qr_path.lower().endswith(".svg"):
            qr.render_svg(code, qr_path)
        else:
            qr.render_png(code, qr_path)
        click.echo(f"QR written to {qr_path}", err=True)
