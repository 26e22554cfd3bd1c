"""The statements of every message, run on the database driver's cursor directly.

SQLAlchemy Core spends ~0.2 ms of CPU per statement around the driver (execution context, parameter
processing, result objects); a turn runs about ten. A `Prepared` statement is a Core statement compiled
once per dialect (so the SQL, the parameter order and the type conversions are SQLAlchemy's own) and
executed on the DBAPI cursor of a SQLAlchemy connection, inside that connection's transaction. Driver
integrity errors are raised as SQLAlchemy's IntegrityError, so that callers' retries are unchanged.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Connection


class Prepared:
    """One statement for one dialect. Bind parameters are given by their names (literal values in the
    statement, such as status != 'resolved', keep theirs)."""

    __slots__ = ("binds", "defaults", "dialect", "keys", "names", "positional", "required", "results", "sql")

    def __init__(self, statement: Any, dialect: Any, column_keys: Sequence[str] | None = None):
        compiled = statement.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None,
                                     for_executemany=column_keys is not None)
        if compiled.escaped_bind_names:
            raise ValueError("bind names that need escaping are not supported")
        self.dialect = dialect
        self.sql = compiled.string
        self.positional = compiled.positional
        self.names = tuple(compiled.positiontup) if self.positional else ()  # the order of qmark parameters
        self.defaults = dict(compiled.params)
        self.required = frozenset(name for name, bind in compiled.binds.items() if bind.required)
        self.binds = tuple((name, processor) for name, processor in compiled._bind_processors.items())
        self.results = tuple(column.type._cached_result_processor(dialect, None)
                             for column in compiled._result_columns)
        self.keys = tuple(column.keyname for column in compiled._result_columns)

    def parameters(self, values: dict) -> Any:
        if not self.required <= values.keys():
            raise KeyError(f"missing parameters: {sorted(self.required - values.keys())}")
        merged = {**self.defaults, **values}
        for name, processor in self.binds:
            if name in merged:
                merged[name] = processor(merged[name])
        if self.positional:
            return tuple(merged[name] for name in self.names)
        return merged

    def _row(self, row: Sequence | None) -> tuple | None:
        if row is None:
            return None
        return tuple(value if processor is None else processor(value)
                     for value, processor in zip(row, self.results))


@contextmanager
def transaction(engine: Any, read_only: bool = False) -> Iterator[Any]:
    """A cursor in a transaction on a pooled driver connection, for work made only of Prepared statements
    (a SQLAlchemy Connection and its begin/commit events cost as much as the statements). As with
    make_engine's begin hook, SQLite takes the write lock first (BEGIN IMMEDIATE) and reads without a
    transaction when read_only; PostgreSQL's driver begins on the first statement. Committed at the end,
    rolled back on an error."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if not read_only and engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        yield cursor
        if read_only:
            raw.rollback()
        else:
            raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()


def cursor_of(conn: Connection) -> Any:
    return conn.connection.dbapi_connection.cursor()


def _run(cursor: Any, statement: Prepared, values: dict) -> Any:
    try:
        cursor.execute(statement.sql, statement.parameters(values))
    except statement.dialect.loaded_dbapi.IntegrityError as error:
        raise exc.IntegrityError(statement.sql, None, error) from error
    return cursor


def execute(cursor: Any, statement: Prepared, values: dict) -> int:
    """Runs a statement without rows; its rowcount."""
    return _run(cursor, statement, values).rowcount


def first(cursor: Any, statement: Prepared, values: dict) -> tuple | None:
    """The first row (converted as SQLAlchemy would), or None."""
    return statement._row(_run(cursor, statement, values).fetchone())


def execute_many(cursor: Any, statement: Prepared, rows: Iterable[dict]) -> None:
    try:
        cursor.executemany(statement.sql, [statement.parameters(row) for row in rows])
    except statement.dialect.loaded_dbapi.IntegrityError as error:
        raise exc.IntegrityError(statement.sql, None, error) from error
