"""Hot statements through the driver's cursor (issue 21).

SQLAlchemy's ``Connection.execute`` of a Core statement (compiled-cache lookup, an execution
context, a result object) costs about 0.18 ms of client CPU a statement on this machine; the same
statement through psycopg's cursor about 0.07 ms. Every verify, settle and signed-in request runs
two to five such statements, so on PostgreSQL they go through ``Hot``: compiled once per dialect,
their parameters and results passed through the column types' own processors as SQLAlchemy would,
a driver error handed to SQLAlchemy's own handling (wrapped as ``DBAPIError``, a dead connection
invalidated, so the 503 and rollback paths see what they always saw), and the engine's
``before_cursor_execute`` listeners still told of each statement. Elsewhere (SQLite, no round
trips to save) the statement runs through Core as before. tests/test_fastsql.py runs both paths
on the same rows and compares what they return."""
import psycopg
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.orm import Session, scoped_session


class Hot:
    """A Core statement with fixed shape. Statements whose columns have Python-side defaults are
    refused at first use: the cursor path would not fill them in (give every value instead)."""

    def __init__(self, statement):
        self.statement = statement
        self._compiled = {}  # (dialect, keys) -> (sql, compiled, bind and result processors)

    def first(self, session, parameters):
        """The first row (a tuple, or Core's Row) or None."""
        return self._run(session, parameters, "first")

    def one(self, session, parameters):
        """The one row; more or none is an error, as Core's ``one()``."""
        return self._run(session, parameters, "one")

    def run(self, session, parameters):
        """Execute; nothing is read back (a write whose result nobody needs: pipeline-safe)."""
        self._run(session, parameters, None)

    def _run(self, session, parameters, fetch):
        connection = _connection(session)
        driver = connection.connection.driver_connection
        sql, compiled, binds, results = self._for(connection.dialect, parameters)
        if not isinstance(driver, psycopg.Connection):
            result = connection.execute(self.statement, parameters)
            return None if fetch is None else getattr(result, fetch)()
        values = compiled.construct_params(parameters, _check=False)
        for key, process in binds:
            values[key] = process(values[key])
        cursor = driver.cursor()
        try:
            if connection._has_events or connection.engine._has_events:
                connection.dispatch.before_cursor_execute(
                    connection, cursor, sql, values, None, False)
            cursor.execute(sql, values)
            if fetch is None:
                return None
            rows = cursor.fetchmany(2) if fetch == "one" else [cursor.fetchone()]
        except Exception as error:  # psycopg's errors become SQLAlchemy's, as with Core
            connection._handle_dbapi_exception(error, sql, values, cursor, None)
        finally:
            cursor.close()
        if fetch == "one" and len(rows) != 1:
            raise (NoResultFound if not rows else MultipleResultsFound)(
                "one() wanted exactly one row")
        row = rows[0]
        if row is None or not results:
            return row
        return tuple(value if process is None else process(value)
                     for value, process in zip(row, results))

    def _for(self, dialect, parameters):
        shape = (dialect.name, frozenset(parameters))  # an INSERT's columns are the ones given
        found = self._compiled.get(shape)
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=list(parameters))
            if compiled.insert_prefetch or compiled.update_prefetch:
                raise TypeError(f"{self.statement!r}: give every column a value (Python defaults "
                                "are not filled in on the cursor path)")
            binds = tuple(compiled._bind_processors.items())  # bind name -> the type's processor
            results = tuple(entry.type._cached_result_processor(dialect, None)
                            for entry in compiled._result_columns)
            found = self._compiled[shape] = (
                str(compiled), compiled, binds,
                results if any(process is not None for process in results) else ())
        return found


def _connection(session):
    """The session's connection (its transaction begun), or a Connection given as it is."""
    return session.connection() if isinstance(session, (Session, scoped_session)) else session
