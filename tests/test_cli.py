"""The command-line contract: `rag index`, `rag search --json`, `rag eval`, `rag list`, `rag remove`."""

from __future__ import annotations

import json

import pytest

from rag import cli

LAW = "# Loi test\n## Titre I : Durée\n### Article 184\nLa durée normale est de 44 heures par semaine.\n### Article 201\nMajoration de 50 % la nuit.\n"


def test_index_search_json_list_remove(runner, tmp_path):
    law = tmp_path / "loi_test.md"
    law.write_text(LAW, encoding="utf-8")
    result = runner.invoke(cli.app, ["index", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "1 indexé(s), 0 inchangé(s), 0 en échec" in result.output

    again = runner.invoke(cli.app, ["index", str(law)])
    assert "0 indexé(s), 1 inchangé(s)" in again.output

    found = runner.invoke(cli.app, ["search", "--json", "--k", "2", "art. 184"])
    assert found.exit_code == 0, found.output
    hits = json.loads(found.stdout)
    assert len(hits) == 2
    first = hits[0]
    for key in ("chunk_id", "source", "title", "article", "page", "lang", "kind", "score", "text"):
        assert key in first
    assert first["article"] == "184" and first["source"] == "loi_test.md" and first["page"] is None
    assert isinstance(first["score"], float) and first["score"] >= hits[1]["score"]

    listed = json.loads(runner.invoke(cli.app, ["list", "--json"]).stdout)
    assert listed[0]["source"] == "loi_test.md" and listed[0]["articles"] == 2
    plain = runner.invoke(cli.app, ["list"]).stdout
    assert "loi_test.md" in plain and "en tout :" in plain and "manque : Code du travail" in plain

    assert runner.invoke(cli.app, ["remove", "loi_test.md"]).exit_code == 0
    assert json.loads(runner.invoke(cli.app, ["search", "--json", "heures"]).stdout) == []
    assert runner.invoke(cli.app, ["remove", "loi_test.md"]).exit_code == 1


def test_index_exits_non_zero_when_a_file_fails(runner, tmp_path):
    (tmp_path / "ok.md").write_text(LAW, encoding="utf-8")
    (tmp_path / "bad.pdf").write_bytes(b"<html>not a pdf</html>")
    result = runner.invoke(cli.app, ["index", str(tmp_path)])
    assert result.exit_code == 1
    assert "ÉCHEC" in result.output and "bad.pdf" in result.output
    assert "1 indexé(s), 0 inchangé(s), 1 en échec" in result.output


def test_missing_path_and_empty_query_are_clear_errors(runner, tmp_path):
    assert runner.invoke(cli.app, ["index", str(tmp_path / "nope.pdf")]).exit_code == 2
    result = runner.invoke(cli.app, ["search", "   "])
    assert result.exit_code == 2 and "vide" in result.output


def test_eval_reports_recall_and_latency(runner, tmp_path):
    (tmp_path / "loi_test.md").write_text(LAW, encoding="utf-8")
    runner.invoke(cli.app, ["index", str(tmp_path / "loi_test.md")])
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        json.dumps({"id": "a", "question": "majoration la nuit", "lang": "fr", "sources": ["loi_test.md"], "article": "201"}) + "\n"
        + json.dumps({"id": "b", "question": "article 184", "lang": "fr", "sources": ["loi_test.md"], "article": "184"}) + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli.app, ["eval", "--json", str(qa)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["questions"] == 2 and report["recall@5"] == 1.0 and report["recall@1"] == 1.0
    assert report["latency_ms_p50"] > 0
