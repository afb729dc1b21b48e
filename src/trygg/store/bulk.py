"""Batched statements compiled once and handed to the driver's ``executemany``.

Every batch writes about as many rows as it has events (event rows, and the state of each
conversation it touched). Executed as SQLAlchemy Core statements, each row's parameters go
through the compiler's generic per-row machinery, which cost more than the detection itself. A
:class:`BulkStatement` compiles its statement once for the connection's dialect, keeps the
column types' own bind processors (so values are stored exactly as SQLAlchemy stores them:
the same SQLite datetime text, the same JSON serialiser) and sends plain parameter rows through
``Connection.exec_driver_sql``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.sql.expression import ClauseElement

Processor = Callable[[Any], Any]


class BulkStatement:
    """One INSERT (or upsert) over ``columns`` of ``table``, ready for many rows at once.

    Rows are mappings by column name. ``constants`` names columns whose value is the same in
    every row of a call (a batch's timestamp): their processed value is computed once per call.
    """

    def __init__(self, statement: ClauseElement, table: Table, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        #: Positional drivers (SQLite's ``?``) take tuples in this order; named ones take dicts.
        self._positions: Sequence[str] | None = compiled.positiontup
        names = list(self._positions) if self._positions is not None else list(compiled.params)
        self.columns = tuple(names)
        self._processors: dict[str, Processor] = {}
        for name in names:
            column_type = table.c[name].type
            processor = column_type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._processors[name] = processor

    def execute(
        self, connection: Connection, rows: Sequence[Mapping[str, Any]], constants: Mapping[str, Any] | None = None
    ) -> None:
        """Write ``rows`` (each with every column not in ``constants``) in one ``executemany``."""
        constants = constants or {}
        self.execute_prepared(connection, self.prepare(rows, constants), constants)

    def prepare(self, rows: Sequence[Mapping[str, Any]], constants: Iterable[str] = ()) -> list[tuple[Any, ...]]:
        """Each row's values for the columns not in ``constants``, through their bind processors:
        plain tuples, which :meth:`execute_prepared` writes as they are. A cluster worker
        prepares its rows (the JSON of conversation state is most of the work) and the process
        that writes only sends them."""
        if not rows:
            return []
        varying = [name for name in self.columns if name not in constants]
        take = itemgetter(*varying)
        processed = [(i, self._processors[name]) for i, name in enumerate(varying) if name in self._processors]
        prepared: list[tuple[Any, ...]] = []
        for row in rows:
            values = list(take(row)) if len(varying) > 1 else [take(row)]
            for i, processor in processed:
                if values[i] is not None:
                    values[i] = processor(values[i])
            prepared.append(tuple(values))
        return prepared

    def execute_prepared(
        self, connection: Connection, prepared: Sequence[tuple[Any, ...]], constants: Mapping[str, Any] | None = None
    ) -> None:
        """Write rows made by :meth:`prepare` with the same ``constants`` names, in one ``executemany``."""
        if not prepared:
            return
        constants = constants or {}
        fixed = tuple(self._process(name, constants[name]) for name in self.columns if name in constants)
        # Values come out as (varying..., constants...); ``order`` puts them in the SQL's order.
        source = [*(name for name in self.columns if name not in constants), *(name for name in self.columns if name in constants)]
        if source == list(self.columns):
            parameters: list[Any] = [(*values, *fixed) for values in prepared] if fixed else list(prepared)
        else:
            order = itemgetter(*(source.index(name) for name in self.columns))
            parameters = [order((*values, *fixed)) for values in prepared]
        if len(self.columns) == 1 and parameters and not isinstance(parameters[0], tuple):
            parameters = [(value,) for value in parameters]
        if self._positions is None:
            parameters = [dict(zip(self.columns, values)) for values in parameters]
        connection.exec_driver_sql(self.sql, parameters)

    def _process(self, name: str, value: Any) -> Any:
        processor = self._processors.get(name)
        return value if processor is None or value is None else processor(value)
