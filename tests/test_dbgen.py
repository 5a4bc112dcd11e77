"""Databases from scratch: every built-in domain builds a realistic, constraint-respecting SQLite file;
specs are validated strictly; an LLM (the stub server) can design the schema; the CLI drives it all."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sqlfoundry.synth.dbgen import (
    DatabaseExistsError,
    design_schema_with_llm,
    domain_from_text,
    extract_json_object,
    generate_database,
    infer_generator,
    spec_from_llm_json,
)
from sqlfoundry.synth.domains import (
    BUILTIN_DOMAINS,
    DomainSpecError,
    UnknownDomainError,
    col,
    fk,
    get_domain,
    spec_from_dict,
    table,
)

SCALE = 0.5


def table_dump(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        names = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        return {n: conn.execute(f"SELECT * FROM {n} ORDER BY 1, 2").fetchall() for n in names}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("domains")
    return {
        name: generate_database(name, folder / f"{name}.sqlite", seed=0, scale=SCALE).path
        for name in BUILTIN_DOMAINS
    }


def test_there_are_at_least_five_domains():
    assert len(BUILTIN_DOMAINS) >= 5
    assert {"hospital", "university", "airline", "retail", "library", "sports_league"} <= set(BUILTIN_DOMAINS)


@pytest.mark.parametrize("name", sorted(BUILTIN_DOMAINS))
def test_builtin_domain_builds_a_sound_database(built, name):
    spec = BUILTIN_DOMAINS[name]
    conn = sqlite3.connect(built[name])
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        counts = {t.name: conn.execute(f"SELECT COUNT(*) FROM {t.name}").fetchone()[0] for t in spec.tables}
        assert sum(counts.values()) >= 1000, counts
        assert all(c > 0 for c in counts.values()), counts
        for t in spec.tables:
            info = {r[1]: r for r in conn.execute(f"PRAGMA table_info({t.name})")}
            fks = conn.execute(f"PRAGMA foreign_key_list({t.name})").fetchall()
            assert {(r[3], r[2], r[4]) for r in fks} == {
                (c.name, *c.references.split(".")) for c in t.columns if c.references
            }
            for c in t.columns:
                nulls = conn.execute(f"SELECT COUNT(*) FROM {t.name} WHERE {c.name} IS NULL").fetchone()[0]
                if not c.nullable:
                    assert nulls == 0, (t.name, c.name)
                    assert info[c.name][3] == 1 or c.name in t.primary_key, (
                        t.name,
                        c.name,
                    )  # declared NOT NULL
                elif (c.null_rate or 0) >= 0.05 and counts[t.name] >= 100:
                    assert 0 < nulls < counts[t.name], (
                        t.name,
                        c.name,
                        nulls,
                    )  # NULLs where declared, not only
                if c.unique:
                    distinct = conn.execute(f"SELECT COUNT(DISTINCT {c.name}) FROM {t.name}").fetchone()[0]
                    assert distinct == counts[t.name] - nulls, (t.name, c.name)
    finally:
        conn.close()


def test_rows_are_skewed_and_dependent_columns_consistent(built):
    conn = sqlite3.connect(built["retail"])
    n_orders, top = conn.execute(
        "SELECT COUNT(*), MAX(c) FROM (SELECT COUNT(*) AS c FROM orders GROUP BY customer_id)"
    ).fetchone()
    assert (
        top > 5 * n_orders / conn.execute("SELECT COUNT(*) FROM customer").fetchone()[0]
    )  # popular customers
    assert conn.execute("""SELECT COUNT(*) FROM order_item i JOIN product p USING (product_id)
                           WHERE i.unit_price <> p.unit_price""").fetchone()[0] == 0  # fmt: skip
    assert conn.execute("""SELECT COUNT(*) FROM orders o JOIN customer c USING (customer_id)
                           WHERE o.shipping_city <> c.city""").fetchone()[0] == 0  # fmt: skip
    lines = conn.execute(
        "SELECT order_id, GROUP_CONCAT(line_no) FROM order_item GROUP BY order_id LIMIT 50"
    ).fetchall()
    assert all(sorted(map(int, s.split(","))) == list(range(1, len(s.split(",")) + 1)) for _, s in lines)
    conn = sqlite3.connect(built["airline"])
    assert (
        conn.execute(
            "SELECT COUNT(*) FROM flight WHERE origin_airport_id = destination_airport_id"
        ).fetchone()[0]
        == 0
    )
    assert (
        conn.execute("SELECT COUNT(*) FROM flight WHERE scheduled_arrival <= scheduled_departure").fetchone()[
            0
        ]
        == 0
    )
    assert conn.execute("""SELECT COUNT(*) FROM booking b JOIN flight f USING (flight_id)
                           WHERE b.booked_at >= f.scheduled_departure""").fetchone()[0] == 0  # fmt: skip
    assert (
        conn.execute(
            "SELECT COUNT(*) FROM flight WHERE status = 'Cancelled' AND delay_minutes IS NOT NULL"
        ).fetchone()[0]
        == 0
    )
    conn = sqlite3.connect(built["sports_league"])
    assert conn.execute("""SELECT COUNT(*) FROM game g JOIN season s USING (season_id)
                           WHERE CAST(strftime('%Y', g.played_on) AS INTEGER) <> s.year""").fetchone()[0] == 0  # fmt: skip


def test_same_seed_same_rows_other_seed_other_rows(tmp_path):
    a = generate_database("library", tmp_path / "a.sqlite", seed=7, scale=0.2).path
    b = generate_database("library", tmp_path / "b.sqlite", seed=7, scale=0.2).path
    c = generate_database("library", tmp_path / "c.sqlite", seed=8, scale=0.2).path
    assert table_dump(a) == table_dump(b)
    assert table_dump(a) != table_dump(c)


def test_scale_multiplies_rows(tmp_path):
    small = generate_database("hospital", tmp_path / "s.sqlite", scale=0.1)
    assert small.rows["patient"] == 220 and small.rows["department"] == 10  # small tables keep 10 rows
    assert small.total_rows < 2000


def test_output_is_not_clobbered_and_written_atomically(tmp_path):
    target = tmp_path / "db.sqlite"
    generate_database("sports", target, scale=0.1)
    with pytest.raises(DatabaseExistsError, match="overwrite"):
        generate_database("sports", target, scale=0.1)
    generate_database("sports", target, scale=0.1, seed=3, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.sqlite"]  # no temporary files left


def test_the_executor_and_introspection_see_the_database(built):
    from sqlfoundry.db.connectors import connector_for
    from sqlfoundry.db.schema import introspect

    with connector_for(f"sqlite:///{built['university']}") as connector:
        schema = introspect(connector, sample_values=3)
    enrollment = schema.table("enrollment")
    assert enrollment.primary_key == ["student_id", "section_id"]
    assert {fk.ref_table for fk in enrollment.foreign_keys} == {"student", "section"}
    assert schema.table("student").column("gpa").null_count > 0


@pytest.mark.parametrize(
    ("description", "domain"),
    [
        ("a hospital with patients and doctors", "hospital"),
        ("flights, airports and passenger bookings", "airline"),
        ("an online shop with products, orders and customers", "retail"),
        ("a football league with teams, players and matches", "sports_league"),
        ("a public library: members borrow books", "library"),
        ("students enrolling in university courses", "university"),
    ],
)
def test_domain_from_text(description, domain):
    assert domain_from_text(description).name == domain


def test_domain_from_text_without_a_match():
    with pytest.raises(UnknownDomainError, match="--llm-url"):
        domain_from_text("quantum chromodynamics lattice")
    assert get_domain("E-Commerce").name == "retail"
    with pytest.raises(UnknownDomainError):
        get_domain("zoo")


# ------------------------------------------------------------------------------------------------
# Strict spec validation
# ------------------------------------------------------------------------------------------------


def _spec(**overrides) -> dict:
    spec = {
        "name": "shop",
        "tables": [
            {"name": "customer", "rows": 50, "primary_key": ["customer_id"],
             "columns": [{"name": "customer_id", "type": "integer"}, {"name": "name", "type": "text"}]},
            {"name": "purchase", "rows": 200, "primary_key": ["purchase_id"],
             "columns": [{"name": "purchase_id", "type": "integer"},
                         {"name": "customer_id", "type": "integer", "references": "customer.customer_id"}]},
        ],
    }  # fmt: skip
    spec.update(overrides)
    return spec


def _broken(path: list, value) -> dict:
    spec = _spec()
    node = spec
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return spec


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (_broken(["tables", 1, "columns", 1, "references"], "clients.customer_id"), "table 'purchase', column 'customer_id': references unknown table 'clients'"),
        (_broken(["tables", 1, "columns", 1, "references"], "customer"), "references must be 'table.column'"),
        (_broken(["tables", 1, "columns", 1, "references"], "customer.name"), "neither the single-column primary key nor a unique column"),
        (_broken(["tables", 1, "columns", 1, "type"], "text"), "type text does not match the referenced column's type integer"),
        (_broken(["tables", 1, "columns", 1, "type"], "blob"), "tables[1] 'purchase' → columns[1] 'customer_id' → type: unknown column type 'blob'"),
        (_broken(["tables", 0, "name"], "order"), "'order' is an SQL keyword"),
        (_broken(["tables", 0, "name"], "my table"), "is not a plain identifier"),
        (_broken(["tables", 0, "primary_key"], []), "table 'customer' has no primary key"),
        (_broken(["tables", 0, "primary_key"], ["id"]), "primary key column 'id' is not one of its columns"),
        (_broken(["tables", 0, "rows"], 0), "rows must be between 1 and"),
        (_broken(["tables", 1, "name"], "customer"), "defined twice"),
        (_broken(["tables", 0, "columns", 1, "name"], "customer_id"), "column 'customer_id' is defined twice"),
        (_spec(tables=[]), "the spec has no tables"),
        (_broken(["tables", 0, "columns", 1, "colour"], "red"), "Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_invalid_specs_name_the_problem(spec, message):
    with pytest.raises(DomainSpecError) as info:
        spec_from_dict(spec, source="test spec")
    assert message in str(info.value)
    assert str(info.value).startswith("test spec: ")


def test_foreign_key_cycles_and_self_references():
    spec = _spec()
    spec["tables"][0]["columns"].append(
        {"name": "last_purchase_id", "type": "integer", "references": "purchase.purchase_id"}
    )
    with pytest.raises(
        DomainSpecError,
        match=r"foreign keys form a cycle \((customer → purchase → customer|purchase → customer → purchase)\)",
    ):
        spec_from_dict(spec)
    spec = _spec()
    spec["tables"][0]["columns"].append(
        {"name": "referrer_id", "type": "integer", "references": "customer.customer_id"}
    )
    with pytest.raises(DomainSpecError, match="a self-reference must be nullable"):
        spec_from_dict(spec)
    spec["tables"][0]["columns"][-1]["nullable"] = True
    spec_from_dict(spec)


def test_self_reference_and_unique_targets_are_populated(tmp_path):
    from sqlfoundry.synth.domains import DomainSpec

    spec = DomainSpec(name="org", tables=[
        table("employee", 300, col("employee_id", "integer", "serial"), col("badge", "text", "pattern", unique=True, pattern="B-#####"),
              fk("manager_id", "employee.employee_id", null=0.05), col("name", "text", "full_name")),
        table("access_log", 900, col("log_id", "integer", "serial"),
              col("badge", "text", "fk", ref="employee.badge"), col("at", "datetime", "datetime")),
    ])  # fmt: skip
    path = generate_database(spec, tmp_path / "org.sqlite").path
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("SELECT COUNT(*) FROM employee WHERE manager_id >= employee_id").fetchone()[0] == 0
    assert (
        conn.execute("SELECT COUNT(*) FROM access_log l JOIN employee e USING (badge)").fetchone()[0] == 900
    )


def test_bad_generators_are_reported(tmp_path):
    from sqlfoundry.synth.domains import DomainSpec

    bad = DomainSpec(
        name="x", tables=[table("t", 10, col("t_id", "integer", "serial"), col("v", "text", "nope"))]
    )
    with pytest.raises(DomainSpecError, match="table 't', column 'v': unknown value generator 'nope'"):
        generate_database(bad, tmp_path / "x.sqlite")
    bad = DomainSpec(
        name="x", tables=[table("t", 10, col("t_id", "integer", "serial"), col("v", "text", "choice"))]
    )
    with pytest.raises(DomainSpecError, match="needs argument"):
        generate_database(bad, tmp_path / "x.sqlite")
    bad = DomainSpec(name="x", tables=[table("t", 10, col("t_id", "integer", "serial"),
                                             col("d", "date", "date_after", column="later"), col("later", "date", "date"))])  # fmt: skip
    with pytest.raises(DomainSpecError, match="column='later' must name an earlier column"):
        generate_database(bad, tmp_path / "x.sqlite")
    assert not (tmp_path / "x.sqlite").exists()


# ------------------------------------------------------------------------------------------------
# Heuristic generators and LLM-designed schemas
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table_name", "column", "type_", "gen"),
    [
        ("patient", "name", "text", "full_name"),
        ("ward", "name", "text", "entity_name"),
        ("patient", "email", "text", "email"),
        ("patient", "birth_date", "date", "date"),
        ("visit", "visit_date", "date", "date"),
        ("staff", "salary", "real", "money"),
        ("patient", "is_insured", "boolean", "bool"),
        ("visit", "status", "text", "choice"),
        ("visit", "visit_type", "text", "choice"),
        ("review", "rating", "integer", "choice"),
        ("visit", "notes", "text", "sentence"),
        ("visit", "room_count", "integer", "int"),
    ],
)
def test_infer_generator(table_name, column, type_, gen):
    from sqlfoundry.synth.domains import ColumnSpec, TableSpec

    t = TableSpec(name=table_name, primary_key=["x_id"], columns=[ColumnSpec(name="x_id", type="integer"),
                                                                  ColumnSpec(name=column, type=type_)])  # fmt: skip
    assert infer_generator(t, t.columns[1])[0] == gen


LLM_SPEC = {
    "name": "Vet Clinic",
    "tables": [
        {"name": "owner", "rows": 300, "primary_key": ["owner_id"], "columns": [
            {"name": "owner_id", "type": "integer"}, {"name": "first_name", "type": "varchar(50)"},
            {"name": "last_name", "type": "text"}, {"name": "email", "type": "text", "nullable": True, "unique": True},
            {"name": "city", "type": "text"}]},
        {"name": "pet", "rows": 600, "columns": [
            {"name": "pet_id", "type": "int", "primary_key": True}, {"name": "name", "type": "text"},
            {"name": "species", "type": "text", "values": ["dog", "cat", "rabbit", "parrot"]},
            {"name": "owner_id", "type": "integer", "references": "owner.owner_id"},
            {"name": "birth_date", "type": "date", "nullable": True}, {"name": "weight_kg", "type": "float"}]},
        {"name": "visit", "rows": 1500, "primary_key": ["visit_id"], "columns": [
            {"name": "visit_id", "type": "integer"}, {"name": "pet_id", "type": "integer", "references": "pet.pet_id"},
            {"name": "visit_date", "type": "date"}, {"name": "cost", "type": "real"},
            {"name": "notes", "type": "text", "nullable": True, "description": "free text"}]},
    ],
}  # fmt: skip


def _json_responder(payloads: list[str]):
    """Attempt k (counted by the user turns of the conversation) gets payloads[k]."""

    def responder(messages, index, body):
        attempt = sum(m["role"] == "user" for m in messages) - 1
        return payloads[min(attempt, len(payloads) - 1)]

    return responder


def test_llm_designed_schema_is_checked_and_populated(tmp_path):
    from llm_stub import StubLLMServer

    pytest.importorskip("openai")
    from sqlfoundry.llm import EndpointGenerator

    answer = "Here is the schema:\n```json\n" + json.dumps(LLM_SPEC) + "\n```"
    with StubLLMServer(responder=_json_responder([answer])) as server:
        gen = EndpointGenerator(server.base_url, "stub-model")
        spec = design_schema_with_llm("a veterinary clinic with owners, pets and visits", gen)
        assert server.chat_requests == 1
        assert "veterinary clinic" in server.requests[0]["messages"][-1]["content"]
    assert spec.name == "vet_clinic"
    assert spec.table("pet").primary_key == ["pet_id"]
    assert spec.table("pet").column("species").gen == "choice"
    assert spec.table("owner").column("email").gen == "email"
    report = generate_database(spec, tmp_path / "vet.sqlite", seed=1)
    assert report.rows == {"owner": 300, "pet": 600, "visit": 1500}
    conn = sqlite3.connect(report.path)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert set(r[0] for r in conn.execute("SELECT DISTINCT species FROM pet")) == {
        "dog",
        "cat",
        "rabbit",
        "parrot",
    }
    assert conn.execute("SELECT COUNT(*) FROM owner WHERE email NOT LIKE '%@%'").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM pet WHERE birth_date IS NULL").fetchone()[0] > 0


def test_malformed_llm_spec_gives_a_clear_error_after_a_repair_attempt():
    from llm_stub import StubLLMServer

    pytest.importorskip("openai")
    from sqlfoundry.llm import EndpointGenerator

    with StubLLMServer(
        responder=_json_responder(['Sure! {"name": "x", "tables": [', "not json at all"])
    ) as server:
        gen = EndpointGenerator(server.base_url, "stub-model")
        with pytest.raises(
            DomainSpecError, match=r"after 2 attempt\(s\): the LLM's answer holds no JSON object"
        ):
            design_schema_with_llm("a zoo", gen, attempts=2)
        assert server.chat_requests == 2
        retry = server.requests[1]["messages"]
        assert retry[-1]["content"].startswith("That schema was rejected: the LLM's JSON schema is cut off")
    bad = json.loads(json.dumps(LLM_SPEC))
    bad["tables"][2]["columns"][1]["references"] = "animal.pet_id"
    with pytest.raises(
        DomainSpecError, match="table 'visit', column 'pet_id': references unknown table 'animal'"
    ):
        spec_from_llm_json(bad)
    bad = json.loads(json.dumps(LLM_SPEC))
    bad["tables"][0]["columns"][0]["default"] = 0
    with pytest.raises(DomainSpecError, match="table 'owner', column 'owner_id': unknown key"):
        spec_from_llm_json(bad)


def test_extract_json_object():
    assert extract_json_object('noise {"a": {"b": "}"}} trailing') == {"a": {"b": "}"}}
    assert extract_json_object('```json\n{"a": 1}\n```') == {"a": 1}
    with pytest.raises(DomainSpecError, match="not valid JSON"):
        extract_json_object("{'a': 1}")
    with pytest.raises(DomainSpecError, match="nothing"):
        extract_json_object("  ")


# ------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------


def test_cli_builds_from_a_description(tmp_path):
    from sqlfoundry.synth.db_cli import app

    out = tmp_path / "new.sqlite"
    spec_out = tmp_path / "spec.json"
    result = CliRunner().invoke(app, ["--domain", "a hospital with patients and doctors", "-o", str(out),
                                      "--scale", "0.1", "--seed", "3", "--save-spec", str(spec_out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "hospital" in result.output and out.exists()
    # the saved spec rebuilds the same rows
    again = tmp_path / "again.sqlite"
    result = CliRunner().invoke(
        app, ["--spec", str(spec_out), "-o", str(again), "--scale", "0.1", "--seed", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["domain"] == "hospital"
    assert table_dump(out) == table_dump(again)
    result = CliRunner().invoke(app, ["--domain", "hospital", "-o", str(out)])
    assert result.exit_code == 2 and "already exists" in result.output
    result = CliRunner().invoke(
        app, ["--domain", "underwater basket weaving", "-o", str(tmp_path / "z.sqlite")]
    )
    assert result.exit_code == 2 and "no built-in domain matches" in result.output
    result = CliRunner().invoke(app, ["--list"])
    assert result.exit_code == 0 and "sports_league" in result.output


def test_cli_with_an_llm_and_through_synth(tmp_path):
    from llm_stub import StubLLMServer

    pytest.importorskip("openai")
    import typer

    from sqlfoundry.synth.cli import app as synth_cli
    from sqlfoundry.synth.cli import register_synth_subcommand

    register_synth_subcommand("db", "sqlfoundry.synth.db_cli:app")
    root = typer.Typer()  # mounted as the main `sqlfoundry` command mounts `synth`
    root.add_typer(synth_cli, name="synth")

    def synth_app_invoke(args):
        return CliRunner().invoke(root, ["synth", *args])

    answer = json.dumps(LLM_SPEC)
    with StubLLMServer(responder=_json_responder([answer])) as server:
        out = tmp_path / "vet.sqlite"
        result = synth_app_invoke(["db", "--domain", "a vet clinic", "-o", str(out), "--llm-url",
                                                server.base_url, "--llm-model", "stub-model", "--scale", "0.2"])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "designed by stub-model" in result.output and "LLM: 1 requests" in result.output
        assert sqlite3.connect(out).execute("SELECT COUNT(*) FROM visit").fetchone()[0] == 300
    with StubLLMServer(responder=_json_responder(["no schema today"])) as server:
        result = synth_app_invoke(["db", "--domain", "a vet clinic", "-o", str(tmp_path / "bad.sqlite"),
                                                "--llm-url", server.base_url, "--llm-model", "stub-model"])  # fmt: skip
        assert result.exit_code == 2
        assert "error:" in result.output and "holds no JSON object" in result.output
        assert not (tmp_path / "bad.sqlite").exists()
