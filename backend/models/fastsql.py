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
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.orm import Session, make_transient_to_detached, scoped_session


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


def columns_of(model):
    """The model's table columns, in the order ``attached`` expects a row's values."""
    return tuple(model.__table__.columns)


def attached(session, model, values):
    """The ORM object of a row of ``columns_of(model)`` read with ``Hot``, put into ``session`` as
    if loaded (no second query, no ORM loading machinery); the one already there if the session
    has it, as ``session.get`` would."""
    keys, primary = _shape(model)
    present = session.identity_map.get(
        session.identity_key(model, tuple(values[i] for i in primary)))
    if present is not None:
        return present
    # As the ORM's loader does: a new instance without __init__ (whose attribute events cost more
    # than the query), its loaded values put straight into its __dict__, then made persistent.
    instance = model._sa_class_manager.new_instance()
    instance.__dict__.update(zip(keys, values))
    make_transient_to_detached(instance)  # as if just loaded: no pending changes
    session.add(instance)
    return instance


def by_id(session, model, ident):
    """``session.get(model, ident)`` for a model with an ``id`` key, in one ``Hot`` read."""
    statement = _BY_ID.get(model)
    if statement is None:
        statement = _BY_ID[model] = Hot(select(*columns_of(model)).where(
            model.__table__.c.id == bindparam("ident")))
    row = statement.first(session, {"ident": ident})
    return None if row is None else attached(session, model, row)


_BY_ID = {}
_SHAPES = {}


def _shape(model):
    """(attribute key of each column, positions of the primary key's columns)."""
    found = _SHAPES.get(model)
    if found is None:
        mapper = inspect(model)
        columns = columns_of(model)
        found = _SHAPES[model] = (
            tuple(mapper.get_property_by_column(column).key for column in columns),
            tuple(columns.index(column) for column in mapper.primary_key))
    return found
