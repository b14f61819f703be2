"""`policybot kb draft`: a council's folder drafted from its published policy, checked and
answering before anyone has written an answer or a question."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import docx
import pytest
import yaml

from adapters.cli.drafting import pages_text
from bot.assistant import Assistant
from bot.evaluation import evaluate
from bot.knowledge import QUOTE_ANSWER, default_root, load_knowledge
from bot.scoring import load_weights
from bot.semantic import DIMENSIONS, QuoteAdapter
from tests.adapters.cli.invoke import run
from tests.fakes.pdf import write_pdf

POLICY = default_root() / "wiltshire" / "policy.txt"


def draft(tmp_path: Path, document: Path = POLICY, org: str = "newshire") -> Path:
    done = run("kb", "draft", str(document), "--org", org, "--into", str(tmp_path / "drafts"))
    assert done.returncode == 0, done.stderr
    return tmp_path / "drafts" / org


def test_a_drafted_council_passes_kb_check_and_answers_with_its_quote(tmp_path: Path) -> None:
    folder = draft(tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == [
        "clauses.yaml",
        "escalations.yaml",
        "policy.txt",
        "policy.yaml",
    ]
    checked = run("--knowledge", str(folder), "kb", "check", "--org", "newshire")
    assert checked.returncode == 0, checked.stderr
    assert (
        b"needs a person" in checked.stdout and b"borrowed question(s) to review" in checked.stdout
    )

    asked = run(
        "--knowledge",
        str(folder),
        "ask",
        "--org",
        "newshire",
        "--json",
        "What should I do if I posted something by mistake?",
    )
    reply = json.loads(asked.stdout)
    assert reply["kind"] in ("answer", "clarify")
    best = reply["matches"][0]
    assert "posted something in error" in best["quote"]
    if reply["kind"] == "answer":
        assert reply["answer"] == QUOTE_ANSWER  # the quote itself, never a made-up summary

    contacts = yaml.safe_load((folder / "policy.yaml").read_text())["contacts"]
    assert contacts == {  # as the document names them
        "hr": "your line manager or HR",
        "comms": "the communications team (socialmedia@wiltshire.gov.uk)",
    }
    clauses = yaml.safe_load((folder / "clauses.yaml").read_text())["clauses"]
    assert all("answer" not in clause for clause in clauses)
    # a clause that says whom to tell offers that route; help with the policy is not a report
    routes = {clause["quote"][:40]: clause["route"] for clause in clauses if "route" in clause}
    assert {
        "If you have posted something in error yo": "comms",
        "If comments have been made about you by ": "hr",
        "If you are receiving unwanted contact yo": "hr",
    }.items() <= routes.items()
    assert not any("If you are unsure" in quote for quote in routes)
    # ... and one that names no one routes as the other councils' rules on the same do
    assert routes["Any instances of cyber bullying by a col"] == "hr"
    assert any(clause.get("borrowed") for clause in clauses)
    assert any(
        "friend-requests-from-service-users" in clause.get("topics", []) for clause in clauses
    )


def test_drafting_again_gives_the_same_ids_and_never_overwrites(tmp_path: Path) -> None:
    first = draft(tmp_path / "one")
    again = draft(tmp_path / "two")
    ids = [c["id"] for c in yaml.safe_load((first / "clauses.yaml").read_text())["clauses"]]
    assert ids == [c["id"] for c in yaml.safe_load((again / "clauses.yaml").read_text())["clauses"]]
    refused = run("kb", "draft", str(POLICY), "--org", "newshire", "--into", str(first))
    assert refused.returncode == 2 and b"never overwrites" in refused.stderr


def test_an_html_page_is_drafted_from_its_text(tmp_path: Path) -> None:
    page = tmp_path / "policy.html"
    page.write_text(
        "<html><head><style>p{}</style><script>var x;</script></head><body>"
        "<div class='cookies'>We use cookies to make this website work.</div>"
        "<header><nav><ul><li>Home</li><li>Report a fire</li></ul></nav></header><main>"
        "<h1>Eastshire Council Social Media Policy</h1><h2>3. Personal use</h2>"
        "<p>3.1 Staff must not use personal social media during working time.</p>"
        "<ul><li>Do not accept friend requests from service users.</li></ul>"
        "<table><tr><th>Team</th><th>Email</th></tr>"
        "<tr><td>HR Advisory</td><td>hr@eastshire.gov.uk</td></tr></table>"
        "<p>Report abuse to HR Advisory.</p>"
        "<aside><p>Related pages: you must read our privacy notice.</p></aside></main>"
        "<footer><p>Copyright Eastshire Council. You must not copy this page.</p></footer>"
        "</body></html>",
        encoding="utf-8",
    )
    folder = draft(tmp_path, page, org="eastshire")
    clauses = yaml.safe_load((folder / "clauses.yaml").read_text())["clauses"]
    assert [(c["section"], c["quote"]) for c in clauses] == [
        ("3.1", "3.1 Staff must not use personal social media during working time."),
        ("3. Personal use", "- Do not accept friend requests from service users."),
        ("3. Personal use", "Report abuse to HR Advisory."),
    ]
    text = (folder / "policy.txt").read_text()
    assert "var x" not in text
    assert "\nHR Advisory | hr@eastshire.gov.uk\n" in text  # a row a line, its cells apart
    meta = yaml.safe_load((folder / "policy.yaml").read_text())
    # the council's name in the page's title, and the title itself
    assert (meta["council"], meta["title"]) == (
        "Eastshire Council",
        "Eastshire Council Social Media Policy",
    )


FOOTER = "Eastshire Council - Official"


def test_a_pdfs_pages_read_as_one_text_with_ligatures_spelt_out() -> None:
    """pypdf gives a typeset "fi" as one character: a question typed "confidential" must meet
    the policy's word, and so must the sentence-embedding model, which does not know it."""
    pages = ["Do not share con\ufb01dential or\nof\ufb01cial information.\n3", "Page 2 of 2"]
    assert pages_text(pages) == "Do not share confidential or\nofficial information.\n\n\n"


def test_a_pdf_is_drafted_without_its_page_numbers_and_footers(tmp_path: Path) -> None:
    pages = [
        [
            "Eastshire Council",
            "Social Media Policy",
            "1. Personal use",
            "1.1 Staff must not use personal social media during working time.",
            FOOTER,
        ],
        [
            "2. Friends",
            "2.1 Do not accept friend requests from service users (or their families).",
            FOOTER,
        ],
        ["3. Reporting", "3.1 Report abusive posts about colleagues to your line manager.", FOOTER],
    ]
    pdf = tmp_path / "policy.pdf"
    write_pdf(pdf, [[*lines, f"Page {n} of 3"] for n, lines in enumerate(pages, start=1)])
    folder = draft(tmp_path, pdf, org="eastshire")
    clauses = yaml.safe_load((folder / "clauses.yaml").read_text())["clauses"]
    assert [(c["section"], c["quote"][:20]) for c in clauses] == [
        ("1.1", "1.1 Staff must not u"),
        ("2.1", "2.1 Do not accept fr"),
        ("3.1", "3.1 Report abusive p"),
    ]
    assert "Page 2 of 3" not in (folder / "policy.txt").read_text()
    meta = yaml.safe_load((folder / "policy.yaml").read_text())
    assert meta["not_rules"] == [{"text": FOOTER, "why": "repeated page header or footer"}]
    routes = yaml.safe_load((folder / "escalations.yaml").read_text())["kinds"]
    assert routes["bullying"]["clause"] == clauses[2]["id"]
    checked = run("--knowledge", str(folder), "kb", "check", "--org", "eastshire")
    assert checked.returncode == 0, checked.stderr


def test_a_text_whose_footer_numbers_its_pages_passes_kb_check(tmp_path: Path) -> None:
    # A PDF saved as text keeps "... - Page 2" (with an en dash) on every page: one not_rules
    # entry, without the number, must cover them all.
    footer = "Eastshire Council \N{EN DASH} Social Media Policy v3.1 \N{EN DASH} Page"
    pages = [
        f"OFFICIAL\n\n{n}.1 Staff must not post rule {n} online.\n\n{footer} {n}\n"
        for n in (1, 2, 3, 4)
    ]
    document = tmp_path / "policy.txt"
    document.write_text("\n".join(pages), encoding="utf-8")
    folder = draft(tmp_path, document, org="eastshire")
    meta = yaml.safe_load((folder / "policy.yaml").read_text())
    assert [rule["text"] for rule in meta["not_rules"]] == [
        "OFFICIAL",
        footer,
    ]
    checked = run("--knowledge", str(folder), "kb", "check", "--org", "eastshire")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_word_document_is_drafted_with_its_bullets(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("Westshire Council Social Media Policy", level=1)
    document.add_heading("Using social media", level=2)
    document.add_paragraph("Staff must not post confidential information about service users.")
    document.add_paragraph("Do not accept friend requests from clients.", style="List Bullet")
    path = tmp_path / "policy.docx"
    document.save(str(path))
    folder = draft(tmp_path, path, org="westshire")
    clauses = yaml.safe_load((folder / "clauses.yaml").read_text())["clauses"]
    assert [(c["section"], c["quote"]) for c in clauses] == [
        ("Using social media", "Staff must not post confidential information about service users."),
        ("Using social media", "- Do not accept friend requests from clients."),
    ]


def test_a_word_documents_tables_are_read_where_they_stand_a_row_a_line(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("Reporting abuse", level=2)
    document.add_paragraph("If you are abused online, tell your line manager the same day.")
    contacts = document.add_table(rows=2, cols=3)
    for cell, text in zip(contacts.rows[0].cells, ("Who", "When", "Contact"), strict=True):
        cell.text = text
    hr = contacts.rows[1].cells
    hr[0].text = "HR Advisory"
    hr[1].merge(hr[2]).text = "hr@westshire.gov.uk"  # one cell across two columns
    layout = document.add_table(rows=1, cols=1)
    layout.rows[0].cells[0].text = "Staff must keep a copy of any abusive post."
    document.add_heading("Politics", level=2)
    document.add_paragraph("Do not post political views from a work account.")
    path = tmp_path / "policy.docx"
    document.save(str(path))
    folder = draft(tmp_path, path, org="westshire")
    assert (folder / "policy.txt").read_text().split("\n\n") == [
        "Reporting abuse",
        "If you are abused online, tell your line manager the same day.",
        "Who | When | Contact",
        "HR Advisory | hr@westshire.gov.uk",
        "Staff must keep a copy of any abusive post.",
        "Politics",
        "Do not post political views from a work account.\n",
    ]
    clauses = yaml.safe_load((folder / "clauses.yaml").read_text())["clauses"]
    sections = {c["quote"]: c["section"] for c in clauses}
    assert sections["Staff must keep a copy of any abusive post."] == "Reporting abuse"
    assert sections["Do not post political views from a work account."] == "Politics"


def test_a_quick_guide_is_drafted_related_to_the_rules_it_restates(tmp_path: Path) -> None:
    document = tmp_path / "policy.md"
    rule = "3. Employees must get a colleague's permission before posting a photograph of them."
    guide = "- Don't post a photo of a colleague without asking them first."
    document.write_text(
        f"# Social media\n\n{rule}\n\n## Quick guide\n\nDon't:\n\n{guide}\n", encoding="utf-8"
    )
    folder = draft(tmp_path, document, org="eastshire")
    clauses = yaml.safe_load((folder / "clauses.yaml").read_text())["clauses"]
    ids = {clause["quote"]: clause["id"] for clause in clauses}
    related = {clause["quote"]: clause.get("related") for clause in clauses}
    assert related == {rule: [ids[guide]], guide: [ids[rule]]}
    checked = run("--knowledge", str(folder), "kb", "check", "--org", "eastshire")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_what_cannot_be_drafted_is_refused_in_one_line(tmp_path: Path) -> None:
    for name, content in (("policy.pdf", b"%PDF-1.4 broken"), ("policy.docx", b"not a zip")):
        broken = tmp_path / name
        broken.write_bytes(content)
        refused = run("kb", "draft", str(broken), "--org", "brokenshire", "--into", str(tmp_path))
        assert refused.returncode == 2 and b"that can be read" in refused.stderr, refused.stderr
    bad_slug = run("kb", "draft", str(POLICY), "--org", "Bad Slug")
    assert bad_slug.returncode == 2


SHIPPED = ("chelmsford", "derbyshire", "gloucestershire", "west-dunbartonshire", "wiltshire")
EVAL = Path(__file__).parents[2] / "eval"


@pytest.fixture(scope="module")
def shipped_drafts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five shipped councils, each drafted from its text with questions borrowed only from
    the other four: councils the drafting has never seen."""
    folder = tmp_path_factory.mktemp("shipped")
    for org in SHIPPED:
        draft(folder, default_root() / org / "policy.txt", org=org)
    return folder / "drafts"


def test_each_shipped_council_drafted_from_its_text_passes_kb_check(shipped_drafts: Path) -> None:
    for org in SHIPPED:
        checked = run("--knowledge", str(shipped_drafts / org), "kb", "check", "--org", org)
        assert checked.returncode == 0, (org, checked.stderr)


def test_drafts_answer_questions_never_fitted_on_as_well_as_the_bar_asks(
    shipped_drafts: Path,
) -> None:
    """tests/eval/verdicts.yaml was never fitted on. Asked of the five drafts, it measured
    top-1 0.596, top-3 0.859 and answer precision 0.877 with the drafted weights (0.506, 0.833
    and 0.840 before the quote adapter, which learnt from these councils' own questions); with
    the reviewed weights alone, 0.404, 0.731 and 0.724: a wrong answer in four."""
    drafts = load_knowledge(default_root(), councils=[shipped_drafts / org for org in SHIPPED])
    assert all(load_weights().as_draft(drafts.policy(org)) for org in SHIPPED)
    drafted = evaluate(Assistant(drafts), EVAL / "verdicts.yaml")
    assert (drafted.top1 or 0) >= 0.45 and (drafted.top3 or 0) >= 0.78, drafted.top1
    assert (drafted.answer_precision or 0) >= 0.80, drafted.answer_precision
    reviewed_only = replace(load_weights(), drafted=None)
    before = evaluate(Assistant(drafts, weights=reviewed_only), EVAL / "verdicts.yaml")
    assert (before.answer_precision or 0) < (drafted.answer_precision or 0)
    outside = evaluate(Assistant(drafts), EVAL / "heldout.yaml").subset("outside")
    assert (outside.abstention or 0) >= 0.9, outside.abstention


def test_calibrate_fits_drafted_weights_leaving_one_council_out(
    shipped_drafts: Path, tmp_path: Path
) -> None:
    two = tmp_path / "two"
    two.mkdir()
    for org in ("derbyshire", "wiltshire"):
        (two / org).symlink_to(shipped_drafts / org)
    cases = tmp_path / "dev.yaml"
    cases.write_text(
        "- {id: a, org: derbyshire, question: can I friend a service user, expect: [clients]}\n"
        "- {id: b, org: wiltshire, question: how do I claim my mileage, expect: []}\n",
        encoding="utf-8",
    )
    weights = tmp_path / "weights.json"
    done = run(
        "calibrate", str(cases), "--folds", "2", "--drafts", str(two), "--write", str(weights)
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "drafts of derbyshire, wiltshire, each answered by drafted weights fitted on" in out
    own = out.splitlines()[out.splitlines().index("own questions") + 2].split()
    assert own[0] == "all" and int(own[1]) > 100  # the councils' own questions, asked of drafts
    body = json.loads(weights.read_text(encoding="utf-8"))
    assert body["drafted_fitted_on"] == ["dev.yaml", "own questions"]
    assert load_weights(weights).drafted is not None
    # what the drafted weights were fitted through, fitted on every council, beside them
    assert QuoteAdapter.load(tmp_path / "quote-adapter.npy").matrix.shape == (
        DIMENSIONS,
        DIMENSIONS,
    )
    assert "wrote " + str(tmp_path / "quote-adapter.npy") in out
    refused = run("calibrate", str(cases), "--drafts", str(tmp_path))  # no council folder there
    assert refused.returncode == 2 and b"two drafted council folders" in refused.stderr


UNSEEN = EVAL / "unseen"


@pytest.mark.parametrize("org", sorted(p.name for p in UNSEEN.iterdir() if p.is_dir()))
def test_a_council_never_seen_is_drafted_checked_and_answered(org: str, tmp_path: Path) -> None:
    """tests/eval/unseen/README.md: a policy as published (PDF text, a web page, Markdown, a
    Word document) drafted, passing kb check, and answering its own questions with no
    hand-written answer or example question. README.md, "Figures", gives each council's,
    measured 2026-12-05 with the quote adapter (top-1 0.433 to 0.600, top-3 0.767 to 0.933,
    precision 0.636 to 0.850, out of scope refused 0.800 to 1.000), and Stourmere's, measured
    once when it was new to everyone (0.367, 0.667, 0.688, 1.000); the floors below keep each
    near them, and out of scope at issue 17's bar."""
    (policy,) = (UNSEEN / org).glob("policy.*")
    folder = draft(tmp_path, policy, org=org)
    checked = run("--knowledge", str(folder), "kb", "check", "--org", org)
    assert checked.returncode == 0, checked.stderr
    drafts = load_knowledge(default_root(), councils=[folder])
    report = evaluate(Assistant(drafts), UNSEEN / org / "questions.yaml")
    assert (report.top3 or 0) >= 0.65, report.top3
    assert (report.top1 or 0) >= 0.35, report.top1
    assert (report.answer_precision or 0) >= 0.6, report.answer_precision
    assert (report.abstention or 0) >= 0.8, report.abstention
