"""Bulk reads and writes for the rescore and the sample data, on Django's connection and inside the caller's
transaction, where the ORM's own ways cost more than the work:

- ``values_rows`` reads with psycopg's own loader for times (Django's parses each in Python) and JSON on demand;
- ``copy_rows`` and ``objects_copy`` insert with a binary COPY, many times faster than ``bulk_create``'s INSERTs;
- ``objects_update`` updates thousands of rows from a copied temporary table in one statement, where
  ``bulk_update`` writes a CASE per field that grows with the rows;
- ``execute`` runs a statement such as a DELETE: django-tenants listens to every model's ``post_delete``, so the
  ORM loads each row it deletes, to signal it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import psycopg
from django.db import connection, models
from psycopg import adapters, sql
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.pq import Format
from psycopg.types.json import set_json_loads

# Fields whose values psycopg adapts as Django would (strings, numbers, booleans, aware times, ids): written as
# they are. Any other field (JSON, a subclass such as django-countries' field) goes through ``get_db_prep_save``.
PLAIN_FIELDS = frozenset(
    {
        models.AutoField,
        models.BigAutoField,
        models.BigIntegerField,
        models.BooleanField,
        models.CharField,
        models.DateTimeField,
        models.EmailField,
        models.FloatField,
        models.ForeignKey,
        models.IntegerField,
        models.OneToOneField,
        models.PositiveIntegerField,
        models.PositiveSmallIntegerField,
        models.SlugField,
        models.SmallIntegerField,
        models.TextField,
    }
)


def execute(statement: sql.Composable, params: Sequence[Any] = ()) -> int:
    """Run ``statement`` (composed with ``psycopg.sql``, so names are quoted), logged as any query is; returns
    how many rows it touched."""
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.cursor), params)
        return int(cursor.rowcount)


class JsonObject(Mapping[str, Any]):
    """A JSON object, parsed when first read: of a million events' properties, the scoring looks at those of
    feature views and extensions only, and parsing the rest would be a tenth of a rescore's Python time."""

    __slots__ = ("_parsed", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._parsed: dict[str, Any] | None = None

    def _object(self) -> dict[str, Any]:
        if self._parsed is None:
            self._parsed = json.loads(self._text)
        return self._parsed

    def __getitem__(self, key: str) -> Any:
        return self._object()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._object().get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._object())

    def __len__(self) -> int:
        return len(self._object())

    def __repr__(self) -> str:
        return f"JsonObject({self._text})"


class _JsonObjectLoader(Loader):
    def load(self, data: Buffer) -> JsonObject:
        return JsonObject(bytes(data).decode())


def values_rows(queryset: models.QuerySet[Any, Any]) -> list[tuple[Any, ...]]:
    """The rows of a ``values_list`` queryset: the values Django's iterator gives (aware UTC datetimes), read
    with psycopg's C loader for times; JSON objects (JSON columns must hold objects) as ``JsonObject``s."""
    query, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        timestamptz = adapters.types["timestamptz"].oid
        raw.adapters.register_loader(timestamptz, adapters.get_loader(timestamptz, Format.TEXT))  # only this cursor's
        raw.adapters.register_loader("jsonb", _JsonObjectLoader)
        raw.execute(query, params)
        return list(raw.fetchall())


def _json_loads(data: str | bytes) -> Any:
    return json.loads(
        data.decode() if isinstance(data, bytes) else data
    )  # from str: json.loads of bytes first guesses their encoding


def rows_read(query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of a raw ``query`` (``%s`` placeholders), fetched in PostgreSQL's binary format and loaded by
    psycopg in C: aware UTC datetimes, JSON parsed. Django's cursor would fetch text, parse times in Python and
    hand JSON over as text; for a million rows that is most of the time spent reading them."""
    with connection.cursor() as cursor:  # Django's first: the tenant's search path is set on the connection
        raw = psycopg.Cursor(cursor.connection)  # binds parameters on the server, so results can be binary
        set_json_loads(_json_loads, raw)
        raw.execute(query, params, binary=True)
        return list(raw.fetchall())


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY ``rows`` (values in ``columns``' order: Python values of the columns' types; JSON as dicts and
    lists) into ``table``, in PostgreSQL's binary format: psycopg packs each value in C, a third of the work
    of the text format."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(sql.Identifier(table), _names(columns))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attname = ANY(%s)",
            [sql.Identifier(table).as_string(cursor.cursor), list(columns)],
        )
        types = dict(cursor.fetchall())
        with cursor.cursor.copy(statement) as copy:
            copy.set_types([types[column] for column in columns])
            for row in rows:
                copy.write_row(row)


def objects_copy(model: type[models.Model], objects: Sequence[models.Model]) -> None:
    """Insert ``objects`` (new rows of ``model``) with one COPY; their ids are drawn from the table's sequence
    first and set on them. Unlike ``bulk_create`` no field's ``pre_save`` runs, so times such as
    ``auto_now_add`` are written as given, and nothing of ``Model.save`` happens (for a tenant: no schema)."""
    if not objects:
        return
    pk = model._meta.pk
    assert pk is not None
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, pk.column, len(objects)],
        )
        for obj, (pk_value,) in zip(objects, cursor.fetchall(), strict=True):
            obj.pk = pk_value
    copy_rows(model._meta.db_table, _columns([pk, *fields]), _rows(objects, [pk, *fields]))
    for obj in objects:
        obj._state.adding, obj._state.db = False, connection.alias


def objects_update(model: type[models.Model], objects: Sequence[models.Model], names: Sequence[str]) -> int:
    """Write the fields ``names`` of ``objects`` (rows of ``model`` that exist) in one UPDATE, from a temporary
    table they are copied into. Returns how many rows changed."""
    if not objects:
        return 0
    pk = model._meta.pk
    assert pk is not None
    fields = [pk, *(model._meta.get_field(name) for name in names)]
    columns = _columns(fields)
    table, staged = model._meta.db_table, f"{model._meta.db_table}_staged"
    execute(
        sql.SQL("CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT {} FROM {} LIMIT 0").format(
            sql.Identifier(staged), _names(columns), sql.Identifier(table)
        )
    )
    copy_rows(staged, columns, _rows(objects, fields))
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = s.{}").format(sql.Identifier(column), sql.Identifier(column)) for column in columns[1:]
    )
    key = sql.Identifier(columns[0])
    changed = execute(
        sql.SQL("UPDATE {} AS t SET {} FROM {} AS s WHERE t.{} = s.{}").format(
            sql.Identifier(table), assignments, sql.Identifier(staged), key, key
        )
    )
    # Dropped now, not only at commit: the caller's outer transaction may stage the same table again.
    execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(staged)))
    return changed


def _names(columns: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(column) for column in columns)


def _columns(fields: Sequence[Any]) -> list[str]:
    return [str(field.column) for field in fields]


def _rows(objects: Sequence[models.Model], fields: Sequence[Any]) -> Iterable[list[Any]]:
    """Each object's values of ``fields``, as the database takes them."""
    writers: list[tuple[str, Callable[[Any], Any] | None]] = [
        (field.attname, None if type(field) in PLAIN_FIELDS else _prepare(field)) for field in fields
    ]
    for obj in objects:
        yield [getattr(obj, name) if write is None else write(getattr(obj, name)) for name, write in writers]


def _prepare(field: Any) -> Callable[[Any], Any]:
    return lambda value: field.get_db_prep_save(value, connection)


def rows_delete(model: type[models.Model], where: sql.Composable, params: Sequence[Any] = ()) -> int:
    """Delete the rows of ``model`` that match ``where`` in SQL, first doing to the rows that refer to them what
    each relation's ``on_delete`` says: CASCADE deletes them, SET_NULL empties the reference. One level only, and
    no signals: a row referring to one deleted in cascade, or a PROTECT relation in use, fails the transaction at
    its foreign-key check. For many rows of a model such as the tenant, whose deletion through the ORM costs a
    query each (django-tenants looks for the schema). Returns how many rows of ``model`` went."""
    table = model._meta.db_table
    pk = model._meta.pk
    assert pk is not None
    ids = sql.SQL("SELECT {} FROM {} WHERE {}").format(sql.Identifier(pk.column), sql.Identifier(table), where)
    relations = [
        field
        for field in model._meta.get_fields(include_hidden=True)
        if field.auto_created and not field.concrete and (field.one_to_many or field.one_to_one)
    ]
    for relation in relations:
        referring = relation.field  # type: ignore[union-attr]
        referring_table, column = sql.Identifier(referring.model._meta.db_table), sql.Identifier(referring.column)
        if relation.on_delete is models.CASCADE:  # type: ignore[union-attr]
            execute(sql.SQL("DELETE FROM {} WHERE {} IN ({})").format(referring_table, column, ids), params)
        elif relation.on_delete is models.SET_NULL:  # type: ignore[union-attr]
            execute(
                sql.SQL("UPDATE {} SET {} = NULL WHERE {} IN ({})").format(referring_table, column, column, ids), params
            )
    return execute(sql.SQL("DELETE FROM {} WHERE {}").format(sql.Identifier(table), where), params)
