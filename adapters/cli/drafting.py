"""`policybot kb draft`: a council's knowledge folder drafted from its published policy."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import yaml

from adapters.cli.context import Context, fail
from bot.drafting import (
    Borrowed,
    Draft,
    borrow,
    draft_clauses,
    draft_routes,
    find_details,
    restatements,
    whom_to_tell,
)
from bot.knowledge import ORG_SLUG
from bot.semantic import shipped_model

if TYPE_CHECKING:
    from docx.text.paragraph import Paragraph

_PAGE_NUMBER = re.compile(r"^(?:page\s*)?\d{1,3}(?:\s*(?:of|/)\s*\d{1,3})?$", re.IGNORECASE)
_BLOCKS = frozenset({"p", "div", "li", "br", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section"})


# A site's menus, search boxes and boxes aside hold no rule; nor do the page's own header and
# footer (a cookie notice, the address), though an article's header inside <main> may hold
# the title.
_NEVER_TEXT = frozenset({"script", "style", "nav", "aside", "form", "noscript", "template"})
_PAGE_CHROME = frozenset({"header", "footer"})


class _Text(HTMLParser):
    """An HTML page's text, a line per block or table row: only its <main> when it has one,
    and never its menus, forms, scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.main: list[str] = []
        self._skip = 0
        self._in_main = 0
        self._cells = 0  # cells begun in the table row being read

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "main":
            self._in_main += 1
        if self._holds_no_rule(tag):
            self._skip += 1
        elif tag in _BLOCKS:
            self._add("\n\n")
        if tag == "li":
            self._add("- ")
        elif tag == "tr":
            self._cells = 0
        elif tag in ("td", "th"):
            # a row is one line, its cells apart as in a Word document's: "HR | hr@..."
            if self._cells and not self._skip:
                self._add(" | ")
            self._cells += 1

    def handle_endtag(self, tag: str) -> None:
        if self._holds_no_rule(tag):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self._add("\n\n")
        if tag == "main":
            self._in_main = max(0, self._in_main - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._add(" ".join(data.split()) if data.strip() else "")

    def _holds_no_rule(self, tag: str) -> bool:
        return tag in _NEVER_TEXT or (tag in _PAGE_CHROME and not self._in_main)

    def _add(self, text: str) -> None:
        self.parts.append(text)
        if self._in_main:
            self.main.append(text)

    @property
    def text(self) -> str:
        return "".join(self.main if "".join(self.main).strip() else self.parts)


# pypdf gives a typeset ligature as its one character ("con\ufb01dential"), which no one types
# and the sentence-embedding model does not know: the letters it stands for.
_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
    }
)


def _pdf_text(path: Path) -> str:
    """A PDF's text, page after page (pypdf)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        pages = [page.extract_text() or "" for page in PdfReader(path).pages]
    except (PdfReadError, OSError, ValueError) as exc:
        fail(f"{path.name}: not a PDF that can be read ({type(exc).__name__})")
    return pages_text(pages)


def pages_text(pages: list[str]) -> str:
    """The text of a PDF's pages as its policy.txt: a blank line between pages, page numbers
    dropped (the headers and footers every page repeats are left to the draft's not_rules),
    ligatures spelt out."""
    lines = [line for page in pages for line in (*page.splitlines(), "")]
    text = "\n".join(line for line in lines if not _PAGE_NUMBER.match(line.strip())) + "\n"
    return text.translate(_LIGATURES)


def _docx_text(path: Path) -> str:
    """A Word document's paragraphs and tables in the document's order (python-docx), list
    items marked "- " as the policy's own bullets. A table row of several cells is one line,
    its cells joined by " | " ("HR Advisory | hr@... | bullying"), so that a contact stays with
    its team; a row of one cell (a table used for layout) is read as its paragraphs."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        fail(f"{path.name}: not a Word document that can be read ({type(exc).__name__})")
    lines = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(_docx_line(block))
            continue
        for row in block.rows:
            # A cell merged across columns is the same object once for each column it spans.
            cells = list({id(cell): cell for cell in row.cells}.values())
            if len(cells) == 1:
                lines.extend(_docx_line(paragraph) for paragraph in cells[0].paragraphs)
                continue
            texts = [
                " ".join(p.text.strip() for p in cell.paragraphs if p.text.strip())
                for cell in cells
            ]
            lines.append(" | ".join(text for text in texts if text))
    return "\n\n".join(line for line in lines if line) + "\n"


def _docx_line(paragraph: Paragraph) -> str:
    text = paragraph.text.strip()
    style = paragraph.style.name if paragraph.style is not None else ""
    return f"- {text}" if text and style.startswith("List") else text


def document_text(path: Path) -> str:
    """The policy's text as councils publish it: PDF, Word (.docx), HTML, Markdown or text."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _pdf_text(path)
    if suffix == ".docx":
        return _docx_text(path)
    if suffix == ".doc":
        fail(f"{path.name}: the old Word format; save it as .docx or PDF first")
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read: {exc}")
    if suffix in (".html", ".htm"):
        parser = _Text()
        parser.feed(raw)
        lines = [" ".join(line.split()) for line in parser.text.splitlines()]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
    return raw


def _details(text: str, council: str | None) -> dict[str, Any]:
    details = find_details(text, council)
    return {
        "council": details.council,
        "title": details.title,
        "date": details.date,
        "contacts": {"hr": details.hr, "comms": details.comms},
    }


def _escalations(draft: Draft) -> dict[str, Any]:
    routes = draft_routes(draft.clauses)
    return {
        "kinds": {
            kind.value: {"routes": [route.route.value], "clause": route.clause}
            for kind, route in routes.items()
        },
        "manager_involved": {"routes": ["hr"], "clause": None},
    }


def _clauses(
    draft: Draft, borrowed: dict[str, Borrowed], restated: dict[str, tuple[str, ...]]
) -> dict[str, Any]:
    entries = []
    for clause in draft.clauses:
        entry: dict[str, Any] = {"id": clause.id, "section": clause.section, "quote": clause.quote}
        taken = borrowed.get(clause.id)
        # a reply from it offers that route: the team it says to tell, else the one the other
        # councils' clauses on the same rule route a report to
        route = whom_to_tell(clause) or (taken.route if taken else None)
        if route is not None:
            entry["route"] = route.value
        if clause.id in restated:  # the same rule, in the policy's own summary or its body
            entry["related"] = list(restated[clause.id])
        if taken:
            if taken.topics:
                entry["topics"] = list(taken.topics)
            entry["borrowed"] = list(taken.questions)
        entries.append(entry)
    return {"clauses": entries}


def _write(path: Path, header: str, data: dict[str, Any]) -> None:
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(header + body, encoding="utf-8")


@click.command("draft")
@click.argument("document", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--org", required=True, help="The council's slug (a-z, 0-9, -): its folder's name.")
@click.option("--council", default=None, help="The council's name, if the document's is wrong.")
@click.option(
    "--into",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the council's folder ORG (default: here); it must not exist yet.",
)
@click.pass_obj
def kb_draft(
    ctx: Context, document: Path, org: str, council: str | None, into: Path | None
) -> None:
    """Draft a council's knowledge folder from its policy DOCUMENT (PDF, .docx, HTML, text)."""
    if not ORG_SLUG.fullmatch(org):
        fail(f"--org {org!r}: a slug of a-z, 0-9 and -")
    # --into names the council's folder, or the folder to make it in.
    folder = into if into is not None and into.name == org else (into or Path()) / org
    if folder.exists():
        fail(f"{folder} exists already: drafting never overwrites a council's knowledge")
    text = document_text(document)
    knowledge = ctx.knowledge
    draft = draft_clauses(text, stopwords=knowledge.vocabulary.stopwords)
    if not draft.clauses:
        fail(f"{document.name}: no rule-bearing paragraph found")
    encoder = shipped_model()
    borrowed = borrow(draft.clauses, knowledge, encoder, leave_out={org})
    restated = restatements(draft.clauses, encoder)
    folder.mkdir(parents=True)
    (folder / "policy.txt").write_text(text, encoding="utf-8")
    meta = _details(text, council)
    meta["not_rules"] = [{"text": rule.text, "why": rule.why} for rule in draft.not_rules]
    note = f"# Drafted by `policybot kb draft` from {document.name}: check every line.\n"
    _write(folder / "policy.yaml", note, meta)
    _write(
        folder / "clauses.yaml",
        note + "# Each clause answers with its quote until a person writes `answer`, `asks` and\n"
        "# `questions`; `borrowed` questions come from other councils' clauses on the same rule,\n"
        "# and so does `route` where the clause itself names no one to tell.\n",
        _clauses(draft, borrowed, restated),
    )
    _write(
        folder / "escalations.yaml",
        note + "# Routes guessed from the clauses that say whom to tell; `clause: null` where the\n"
        "# policy does not say (kb check counts these as needing a person).\n",
        _escalations(draft),
    )
    click.echo(
        f"wrote {folder}: {len(draft.clauses)} clauses ({len(borrowed)} with borrowed "
        f"questions), {len(draft.not_rules)} not rules. Next: policybot --knowledge "
        f"{folder} kb check --org {org}"
    )
