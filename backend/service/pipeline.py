"""Writes whose results nobody reads, sent with their COMMIT in one round trip (issue 21)."""
import psycopg


def commit_with(session, *writes):
    """Commit ``session`` after running ``writes`` (callables that execute statements whose
    results are not read, such as ``audit.append``), all in one transaction.

    On PostgreSQL the writes and the COMMIT go in psycopg's pipeline mode: one round trip instead
    of one each. The pipeline is left before SQLAlchemy's own commit, which then finds no
    transaction open on the connection and sends nothing, and only then gives the connection back
    to the pool (a connection still in pipeline mode must never go back: another thread may take
    it). Whatever the ORM has pending is flushed first, so it is in the same transaction. An error
    in a write is raised at the COMMIT, and the transaction is rolled back as usual. On SQLite
    (no round trips) the writes run and the session commits."""
    session.flush()
    driver = session.connection().connection.driver_connection
    if isinstance(driver, psycopg.Connection):
        with driver.pipeline():
            for write in writes:
                write()
            driver.commit()
    else:
        for write in writes:
            write()
    session.commit()
