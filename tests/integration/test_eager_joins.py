"""Eager loads never nest joins: SQLite answers a nested join by building it whole first.

Loading a letter (or a proposal, an audit, ...) joins its cooperative, and the cooperative joins
its kecamatan and desa. With nested inner joins inside the outer join, SQLite materialised the
join of every cooperative with its kecamatan and desa (boundary polygons included) for each
query: a bulk sign-off of 913 proposals spent most of its time there.
"""

from sqlalchemy import select

from coop_audit.extensions import db


def _models_with_eager_joins():
    for mapper in db.Model.registry.mappers:
        if any(rel.lazy == "joined" for rel in mapper.relationships):
            yield mapper.class_


def test_no_eager_load_renders_a_nested_join(app):
    models = list(_models_with_eager_joins())
    assert len(models) >= 5  # Letter, Proposal, Cooperative, ... are among them
    dialect = db.session.get_bind().dialect
    nested = []
    for model in models:
        sql = str(select(model).compile(dialect=dialect)).replace("\n", " ")
        if "JOIN (" in sql:
            nested.append(model.__name__)
    assert not nested, f"nested eager joins in {nested}"

    conn = db.session.connection()
    if conn.dialect.name == "sqlite":  # and the plan behind it (PostgreSQL flattens joins)
        from coop_audit.models.letters import Letter

        query = select(Letter).where(Letter.id == 1)
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        plan = " | ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
        assert "SCAN cooperative" not in plan and "MATERIALIZE" not in plan, plan
