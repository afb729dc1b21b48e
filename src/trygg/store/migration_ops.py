"""Operations the shipped migrations share.

Until this release the schema was made by ``create_all``, and modules still call
:func:`trygg.store.schema.create_schema` for tables that a revision may not cover yet (a table
merged before its revision). So a revision that adds a table creates it only when it is
missing: a database whose tables ``create_all`` already made is adopted as it is, with its rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op


def create_missing_table(name: str, *elements: Any, indexes: Sequence[tuple[str, list[str], bool]] = (), **options: Any) -> None:
    """``op.create_table`` (and its indexes) unless the table exists."""
    if name in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(name, *elements, **options)
    for index_name, columns, unique in indexes:
        op.create_index(index_name, name, columns, unique=unique)
