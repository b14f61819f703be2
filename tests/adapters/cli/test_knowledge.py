"""`policybot kb check`, run as a real process."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from bot.knowledge import default_root
from tests.adapters.cli.invoke import run


def test_kb_check_passes_on_the_shipped_knowledge() -> None:
    result = run("kb", "check")
    assert result.returncode == 0, result.stderr
    assert b"coverage 100.0%" in result.stdout


def test_kb_check_names_the_file_and_clause_of_a_problem(tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(default_root(), root)
    clauses = root / "wiltshire" / "clauses.yaml"
    text = clauses.read_text(encoding="utf-8")
    clause_id = text.split("- id: ", 1)[1].split("\n", 1)[0].strip()
    quote_start = text.index("quote: |-\n") + len("quote: |-\n")
    clauses.write_text(
        text[:quote_start] + "      Words the policy never says.\n" + text[quote_start:],
        encoding="utf-8",
    )
    result = run("--knowledge", str(root), "kb", "check")
    assert result.returncode == 1
    assert f"{clauses}: clause '{clause_id}': quote is not verbatim".encode() in result.stderr


def test_kb_check_refuses_a_bare_verdict_and_warns_of_questions_asked_the_other_way_round(
    tmp_path: Path,
) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(default_root(), root)
    path = root / "wiltshire" / "clauses.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    bare, warned = data["clauses"][:2]
    bare["answer"] = "No. " + bare["answer"]
    bare.pop("asks", None)
    warned["asks"] = "Can I post about work on my personal account?"
    warned["answer"] = "Yes. " + warned["answer"]
    warned["questions"].append("is posting about work a breach of the policy?")
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = run("--knowledge", str(root), "kb", "check", "--org", "wiltshire")
    assert result.returncode == 1
    err = result.stderr.decode()
    assert f"clause '{bare['id']}': answer opens with a verdict (no) but the clause has no" in err
    assert (
        f"warning: {path}: clause '{warned['id']}': question 'is posting about work a breach "
        "of the policy?' is asked the other way round from asks 'Can I post about work on my "
        "personal account?'"
    ) in err


def a_council_outside(tmp_path: Path, name: str = "newshire") -> Path:
    """A council's knowledge in a folder of its own, outside the repository (Wiltshire's
    files under another name)."""
    folder = tmp_path / "councils" / name
    shutil.copytree(default_root() / "wiltshire", folder)
    return folder


def test_a_council_kept_outside_the_repository_is_asked_checked_and_listed(
    tmp_path: Path,
) -> None:
    folder = a_council_outside(tmp_path)
    asked = run("--knowledge", str(folder), "ask", "--org", "newshire", "--json", "can I tweet?")
    assert asked.returncode == 0, asked.stderr
    assert b'"org": "newshire"' in asked.stdout
    checked = run("--knowledge", str(folder.parent), "kb", "check")
    assert checked.returncode == 0, checked.stderr
    assert b"newshire" in checked.stdout and b"derbyshire" in checked.stdout
    listed = run("orgs", env={"POLICYBOT_KNOWLEDGE": str(folder)})
    assert b"newshire" in listed.stdout and b"wiltshire" in listed.stdout


def test_a_knowledge_folder_without_councils_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    refused = run("--knowledge", str(tmp_path / "empty"), "orgs")
    assert refused.returncode == 1 and b"no council folders" in refused.stderr
    missing = run("--knowledge", str(tmp_path / "nowhere"), "orgs")
    assert missing.returncode == 1 and b"knowledge folder not found" in missing.stderr


def test_kb_check_counts_what_needs_a_person_and_refuses_a_council_that_cannot_take_reports(
    tmp_path: Path,
) -> None:
    folder = a_council_outside(tmp_path)
    clauses = folder / "clauses.yaml"
    data = yaml.safe_load(clauses.read_text(encoding="utf-8"))
    first = data["clauses"][0]
    first.pop("asks", None)
    first["answer"] = "The policy is available in other formats on request."
    clauses.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    (folder / "escalations.yaml").unlink()

    counted = run("--knowledge", str(folder), "kb", "check", "--org", "newshire")
    assert counted.returncode == 0, counted.stderr
    assert f"; 1 clause without asks: {first['id']};".encode() in counted.stdout

    settings = tmp_path / "policybot.yaml"
    settings.write_text(
        "escalations:\n  newshire:\n    hr:\n      email: hr@newshire.example.gov.uk\n",
        encoding="utf-8",
    )
    refused = run(
        "--knowledge", str(folder), "kb", "check", "--org", "newshire", "--config", str(settings)
    )
    assert refused.returncode == 1
    assert b"escalations.yaml: missing: the settings take reports for this council" in (
        refused.stderr
    )
