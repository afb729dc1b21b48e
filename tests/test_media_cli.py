"""The media CLI (hash, match, bank ...) through Typer's runner, on the test database
(``TRYGG_DATABASE_URL``), and bank create/add/match once with ``--db``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("pdqhash", reason="needs the 'media' extra")

import typer  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from test_media_support import blocks, jpeg  # noqa: E402
from trygg.commands.media import register  # noqa: E402

runner = CliRunner()


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture
def db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TRYGG_DATABASE_URL", database_url)
    return database_url


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_hash_prints_json_lines_and_reports_bad_files(app: typer.Typer, tmp_path: Path) -> None:
    good = tmp_path / "a.jpg"
    good.write_bytes(jpeg(blocks(seed=1)))
    bad = tmp_path / "b.jpg"
    bad.write_text("nope")
    result = runner.invoke(app, ["hash", str(good), str(bad)])
    assert result.exit_code == 1
    first, second = _lines(result.stdout)
    assert first["type"] == "image" and len(first["pdq"]) == 64 and first["quality"] == 100 and first["matchable"]
    assert len(first["md5"]) == 32 and len(first["sha256"]) == 64
    assert second == {"file": str(bad), "error": "not an image (format not recognised)"}


def test_bank_lifecycle_and_match(app: typer.Typer, tmp_path: Path, db: str) -> None:
    picture = tmp_path / "known.jpg"
    picture.write_bytes(jpeg(blocks(seed=7)))
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(jpeg(blocks(seed=7), quality=60))

    assert runner.invoke(app, ["bank", "create", "local", "--source", "moderators", "--action", "block"]).exit_code == 0
    assert runner.invoke(app, ["bank", "create", "local"]).exit_code == 2
    added = runner.invoke(app, ["bank", "add", "local", str(picture), "--label", "case-1"])
    assert added.exit_code == 0, added.output
    (entry_id,) = _lines(added.stdout)[0]["added"]

    match = runner.invoke(app, ["match", str(copy)])
    assert match.exit_code == 0, match.output
    (line,) = _lines(match.stdout)
    assert [(m["bank"], m["entry_id"], m["match"], m["action"]) for m in line["matches"]] == [("local", entry_id, "pdq", "block")]

    listing = _lines(runner.invoke(app, ["bank", "list"]).stdout)
    assert [(b["name"], b["entries"], b["source"]) for b in listing] == [("local", 1, "moderators")]

    export = tmp_path / "local.txt"
    assert runner.invoke(app, ["bank", "export", "local", "--out", str(export), "--format", "plain"]).exit_code == 0
    assert runner.invoke(app, ["bank", "create", "partner"]).exit_code == 0
    imported = runner.invoke(app, ["bank", "import", "partner", str(export)])
    assert _lines(imported.stdout) == [{"bank": "partner", "imported": 1, "file": str(export)}]

    removed = runner.invoke(app, ["bank", "remove", "local", "--id", str(entry_id)])
    assert _lines(removed.stdout) == [{"bank": "local", "removed": 1}]
    after = _lines(runner.invoke(app, ["match", str(copy)]).stdout)[0]["matches"]
    assert [m["bank"] for m in after] == ["partner"]


def test_bank_errors_exit_2(app: typer.Typer, tmp_path: Path, db: str) -> None:
    result = runner.invoke(app, ["bank", "add", "ghost", "--pdq", "0" * 64])
    assert result.exit_code == 2 and "no bank named 'ghost'" in result.output
    bad = tmp_path / "bad.txt"
    bad.write_text("zz\n")
    runner.invoke(app, ["bank", "create", "local"])
    result = runner.invoke(app, ["bank", "import", "local", str(bad)])
    assert result.exit_code == 2 and "line 1: pdq must be 64 hex digits" in result.output
    assert runner.invoke(app, ["bank", "remove", "local"]).exit_code == 2


def test_take_it_down_from_hash_and_from_image(app: typer.Typer, tmp_path: Path, db: str) -> None:
    picture = tmp_path / "mine.jpg"
    picture.write_bytes(jpeg(blocks(seed=12)))
    by_image = runner.invoke(app, ["bank", "take-it-down", "--image", str(picture)])
    assert by_image.exit_code == 0, by_image.output
    by_hash = runner.invoke(app, ["bank", "take-it-down", "--md5", "ab" * 16])
    assert by_hash.exit_code == 0
    assert runner.invoke(app, ["bank", "take-it-down"]).exit_code == 2
    (line,) = _lines(runner.invoke(app, ["match", str(picture)]).stdout)
    assert {m["bank"] for m in line["matches"]} == {"take_it_down"}


def test_bank_create_add_match_with_the_db_option(app: typer.Typer, tmp_path: Path, database_url: str) -> None:
    """``--db`` instead of the environment, on a fresh database (on PostgreSQL on that pass: a
    shared database holding a schema of an earlier release would be refused until `trygg db upgrade`)."""
    picture = tmp_path / "known.jpg"
    picture.write_bytes(jpeg(blocks(seed=77)))
    assert runner.invoke(app, ["bank", "create", "pg_test", "--db", database_url]).exit_code == 0
    added = runner.invoke(app, ["bank", "add", "pg_test", str(picture), "--db", database_url])
    assert added.exit_code == 0, added.output
    (line,) = _lines(runner.invoke(app, ["match", str(picture), "--db", database_url]).stdout)
    assert {(m["bank"], m["match"]) for m in line["matches"]} >= {("pg_test", "sha256")}
