"""The report of a check: one row per chapter name, shown as a terminal table, an HTML table in
Jupyter or JSON. Rows and notes hold ids and fields, never sentences, so one report can be shown in
any language (``report.in_language("zh")``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace

from nnlearn.base.i18n import N_, pad, translate, width
from nnlearn.checker.catalogue import CATALOGUE, DETAILS, Code, earlier_version
from nnlearn.checker.names import key as name_key

SYMBOLS = {"pass": "✓", "warn": "⚠", "fail": "✗", "missing": "–", "untested": "–"}

NOTES = {
    "syntax": N_("syntax error at {where}: {message}; nothing could be checked"),
    "top-stopped": N_(
        "the file's top level was still running after {seconds} s, at {where}; it was stopped "
        "there, and the names defined until then were checked (a larger timeout gives it more time)"
    ),
    "exit": N_("the file called sys.exit({code}) at {where}; the names defined before were checked"),
    "exception": N_("the file raised {exception} at {where}; the names defined before were checked"),
    "cell-failed": N_(
        "cell {cell} raised {exception} at {where}; the cells after it were not run, the names "
        "defined before were checked"
    ),
    "definitions-only": N_(
        "then its imports and definitions alone were run, so that everything it defines is "
        "checked; skipped: {statements} other statement(s), at lines {lines}"
    ),
    "definition-failed": N_("line {line} could not be run on its own ({exception}) and was skipped"),
    "printed": N_("the file printed {lines} line(s) while it ran:"),
    "standin": N_("not beside your file, so nnlearn's stand-ins were used: {module}"),
    "magic-skipped": N_("cell {cell}, line {line}: {text} was skipped (IPython, not Python)"),
    "cell-magic-skipped": N_("cell {cell} was skipped: {magic} does not run Python"),
    "import-killed": N_(
        "the file's top level did not finish within {seconds} s and could not be interrupted; nothing could be checked"
    ),
    "import-crashed": N_("the process running the file ended while it ran ({why}); nothing could be checked"),
    "unreached": N_("{names}: defined in the file after the point where its top level stopped, so not checked"),
    "import-forged": N_(
        "the file's code wrote to the check's own channel, an answer the check did not ask for; "
        "the process was ended and nothing could be checked"
    ),
    "not-carried": N_("{name} ({type}) could not be carried into the check; define it in the code you check"),
    "no-source": N_(
        "{name} was defined where Python keeps no source (python -c, or an interactive console), so it "
        "could not be checked; put the code in a .py file and run nnlearn check FILE"
    ),
    "nested": N_("nnlearn.check() inside a file that is being checked does nothing"),
}

#: The labels of a finding's lines, in the order shown.
LABELS = {
    "input": N_("input"),
    "got": N_("got"),
    "expected": N_("expected"),
    "at": N_("at"),
    "why": N_("why"),
    "fix": N_("fix"),
    "book": N_("book"),
    "lesson": N_("lesson"),
}

#: The board's lesson page of each book section (``nnlearn board``, :mod:`nnlearn.see.board.lessons`), the
#: longest matching section first: h-too-small (4.3.1) -> the numerical-differentiation lesson.
LESSONS = {"4.4.2": "/lessons/numgrad", "4.4.1": "/lessons/descent", "4.4": "/lessons/gradient", "4.3": "/lessons/diff"}


def lesson(section: str) -> str:
    """The board's page for ``section`` ("" when the board has none)."""
    return next((page for prefix, page in LESSONS.items() if section == prefix or section.startswith(prefix + ".")), "")


#: The top-level states after which the report cannot vouch for the file.
BROKEN = ("syntax", "error", "killed", "crashed")


#: The Jupyter table's look, scoped to the report's own element.
HTML_STYLE = (
    ".nnlearn-check table{border-collapse:collapse;margin:.4em 0}"
    ".nnlearn-check th,.nnlearn-check td{border:1px solid #ccc;padding:.25em .6em;text-align:left;"
    "vertical-align:top}"
    ".nnlearn-check th{background:#f3f3f3}.nnlearn-check dl{margin:.2em 0 .5em;display:grid;"
    "grid-template-columns:max-content auto;column-gap:.8em}.nnlearn-check dt{color:#666}"
    ".nnlearn-check dd{margin:0;font-family:monospace;white-space:pre-wrap}"
)


@dataclass
class Row:
    """The verdict on one chapter name; ``findings`` are the probes' findings as dicts (``probes.base.Finding``)."""

    name: str
    status: str
    spelling: str = ""
    findings: list = field(default_factory=list)
    note: str | None = None
    uses: list = field(default_factory=list)
    origin: dict | None = None


def escalated(rows: list, notes: list) -> list:
    """The rows with the book's earlier versions made failures where the same file uses them where
    they stop working: a row that was judged with the book's version in their place (its ``uses``),
    or the file's top level stopped by an exception at the very line where the probe broke them."""
    stopped = [n["where"][-1][:2] for n in notes if n.get("kind") in ("exception", "cell-failed") and n.get("where")]
    for row in rows:
        for finding in row.findings:
            if not earlier_version(finding):
                continue
            users = [r.name for r in rows if row.name in r.uses]
            line = next((f[1] for f in stopped if finding.get("where") and list(f) == finding["where"][-1][:2]), None)
            if users:
                finding["details"] = [*finding["details"], ["used-where-breaks", {"user": users[0]}]]
            elif line is not None:
                finding["details"] = [*finding["details"], ["top-level-breaks", {"line": line}]]
            else:
                continue
            finding["severity"] = row.status = "fail"
    return rows


@dataclass
class Report:
    """The result of ``nnlearn check`` / ``nnlearn.check(...)`` for one file or namespace."""

    target: str
    lang: str
    status: str
    rows: list
    notes: list = field(default_factory=list)

    # -- counts ------------------------------------------------------------------------------------

    @property
    def found(self) -> list:
        return [r for r in self.rows if r.status != "missing"]

    @property
    def shown(self) -> list:
        """The rows a table shows: not the chapter's names that are simply absent."""
        return [r for r in self.rows if not (r.status == "missing" and not r.origin)]

    def count(self, *statuses) -> int:
        return sum(r.status in statuses for r in self.rows)

    @property
    def ok(self) -> bool:
        """Every chapter name found passes (warnings allowed), at least one was found, the file ran (and
        defined none after the point where it stopped)."""
        checked = [r for r in self.found if r.status != "untested"]
        unreached = any(n.get("kind") == "unreached" for n in self.notes)
        return bool(checked) and self.count("fail", "untested") == 0 and self.status not in BROKEN and not unreached

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def in_language(self, lang: str) -> Report:
        """The same report, shown in ``lang``."""
        return replace(self, lang=lang)

    # -- words -------------------------------------------------------------------------------------

    def _(self, msgid: str, /, **params) -> str:
        return translate(msgid, self.lang, **params)

    def place(self, file: str, line: int, cell) -> str:
        if isinstance(cell, str):  # a definition taken from a live namespace (a Jupyter cell)
            return self._("the cell defining {name}, line {line}", name=cell, line=line)
        if cell is not None:
            return self._("{file}, cell {cell}, line {line}", file=file, cell=cell, line=line)
        return self._("{file}, line {line}", file=file, line=line)

    def where(self, frames) -> str:
        """``file.py, line 3 → helper.py, line 7: code`` for the reader's frames, innermost last."""
        if not frames:
            return self._("your code")
        parts = [self.place(f[0], f[1], f[3] if len(f) > 3 else None) for f in frames]
        code = frames[-1][2]
        return " → ".join(parts) + (f": {code}" if code else "")

    def note_text(self, note: dict) -> str:
        params = {k: v for k, v in note.items() if k not in ("kind", "first")}
        if "where" in params:
            params["where"] = self.where(params["where"])
        text = self._(NOTES[note["kind"]], **params)
        if note["kind"] == "printed":
            text += "".join(f"\n    | {line}" for line in note.get("first", []))
        return text

    def finding_words(self, finding: dict) -> dict:
        """A finding's sentences: title (with its details), explanation, fix, section."""
        cat = CATALOGUE[finding["id"]]
        details = [self._(DETAILS[key], **params) for key, params in finding.get("details", [])]
        title = self._(cat.title)
        message = self._("{title} ({details})", title=title, details=self.joined(details)) if details else title
        fix = self._(cat.fix)
        if isinstance(cat.fix, Code) and finding.get("names"):  # the book's code in the reader's own names
            names = finding["names"]
            fix = re.sub(r"\b(" + "|".join(map(re.escape, names)) + r")\b", lambda m: names[m.group(1)], fix)
        return {
            "message": message,
            "explanation": self._(cat.explanation),
            "fix": fix,
            "details": details,
            "where": self.where(finding["where"]) if finding.get("where") else "",
        }

    def row_remark(self, row: Row) -> str:
        """What a row without findings says: not found, not yours, untested, found under another name."""
        if row.status == "missing" and row.origin and row.origin.get("no-source"):
            return self._("defined, but Python kept no source of it (python -c or a console): not checked")
        if row.status == "missing" and row.origin:
            key = (
                N_("from {module} (nnlearn's stand-in), not your code: not checked")
                if row.origin.get("standin")
                else N_("from {module}, not your code: not checked")
            )
            return self._(key, module=row.origin.get("module"))
        if row.status == "missing":
            return self._("not found")
        if row.status == "untested":
            return self._("not checked: the class could not be built, or the process was lost before")
        parts = []
        if row.spelling and name_key(row.spelling) != name_key(row.name):  # a variant: which chapter name it is
            parts.append(
                self._("your {spelling} was checked as the chapter's {name}", spelling=row.spelling, name=row.name)
            )
        elif row.spelling and row.spelling != row.name:
            parts.append(self._("found as {spelling}", spelling=row.spelling))
        if row.note:
            parts.append(self._(DETAILS[row.note]))
        return self.joined(parts)

    def summary(self) -> str:
        checked = [r for r in self.found if r.status != "untested"]
        parts = [self._("{passed} of {found} correct", passed=self.count("pass", "warn"), found=len(checked))]
        if self.count("warn"):
            parts.append(self._("warnings: {n}", n=self.count("warn")))
        missing = [r.name for r in self.rows if r.status == "missing" and not (r.origin or {}).get("no-source")]
        if missing:
            parts.append(self._("not found: {names}", names=", ".join(missing)))
        return self.joined(parts)

    def joined(self, parts) -> str:
        """Clauses joined the language's way ("a; b" in English)."""
        return self._("; ").join(parts)

    # -- views -------------------------------------------------------------------------------------

    def text(self) -> str:
        """The terminal table."""
        lines = [self._("nnlearn check: {file}", file=self.target)]
        name_width = max([width(r.name) for r in self.shown] + [10])
        label_width = max(width(self._(label)) for label in LABELS.values()) + 1
        for row in self.shown:
            remark = self.row_remark(row)
            lines.append(f"  {SYMBOLS[row.status]} {pad(row.name, name_width)}  {remark}".rstrip())
            for finding in sorted(row.findings, key=lambda f: f["severity"] != "fail"):
                lines.extend(self._finding_lines(finding, label_width))
            if row.uses:
                lines.append(
                    "      " + self._("it uses {names}, which fails above: fix that first", names=", ".join(row.uses))
                )
        if not self.found and not any((r.origin or {}).get("no-source") for r in self.rows):
            lines.append("  " + self._("none of the chapter's names is defined here"))
        if self.notes:
            lines.append(self._("notes:"))
            lines.extend(f"  • {self.note_text(n)}" for n in self.notes)
        lines.append(self.summary())
        return "\n".join(lines)

    def _finding_lines(self, finding, label_width) -> list:
        words = self.finding_words(finding)
        out = [f"      {SYMBOLS[finding['severity']]} {words['message']} [{finding['id']}]"]
        for key, value in self._finding_fields(finding, words):
            out.append(f"        {pad(self._(LABELS[key]), label_width)} {value}")
        return out

    def _finding_fields(self, finding, words) -> list:
        """``(label key, text)`` of a finding's lines that have something to say."""
        page = lesson(finding["section"])
        fields = [
            ("input", finding.get("input")),
            ("got", finding.get("got")),
            ("expected", finding.get("expected")),
            ("at", words["where"]),
            ("why", words["explanation"]),
            ("fix", words["fix"]),
            ("book", self._("section {section}", section=finding["section"])),
            ("lesson", self._("nnlearn board, page {page}", page=page) if page else ""),
        ]
        return [(key, value) for key, value in fields if value]

    def __str__(self) -> str:
        return self.text()

    def to_json(self) -> dict:
        """The report as data: ``{"functions": [{"name", "status", "findings": [...]}, ...], ...}``."""
        functions = []
        for row in self.rows:
            findings = []
            for f in row.findings:
                words = self.finding_words(f)
                findings.append(
                    {
                        "id": f["id"],
                        "severity": f["severity"],
                        "message": words["message"],
                        "section": f["section"],
                        "input": f.get("input", ""),
                        "got": f.get("got", ""),
                        "expected": f.get("expected", ""),
                        "explanation": words["explanation"],
                        "fix": words["fix"],
                        "where": words["where"],
                    }
                )
            functions.append(
                {
                    "name": row.name,
                    "found_as": row.spelling or None,
                    "status": row.status,
                    "remark": self.row_remark(row) or None,
                    "findings": findings,
                }
            )
        return {
            "file": self.target,
            "lang": self.lang,
            "top_level": self.status,
            "ok": self.ok,
            "notes": [self.note_text(n) for n in self.notes],
            "functions": functions,
            "summary": self.summary(),
        }

    def _repr_html_(self) -> str:
        """The report as an HTML table, for Jupyter (built as elements, so every text is escaped)."""
        root = ET.Element("div", {"class": "nnlearn-check"})
        ET.SubElement(root, "style").text = HTML_STYLE
        ET.SubElement(root, "strong").text = self._("nnlearn check: {file}", file=self.target)
        table = ET.SubElement(root, "table")
        head = ET.SubElement(table, "tr")
        for title in ("", self._("function"), self._("diagnosis")):
            ET.SubElement(head, "th").text = title
        for row in self.shown:
            tr = ET.SubElement(table, "tr")
            ET.SubElement(tr, "td").text = SYMBOLS[row.status]
            ET.SubElement(tr, "td").text = row.name
            cell = ET.SubElement(tr, "td")
            cell.text = self.row_remark(row)
            for finding in row.findings:
                self._html_finding(cell, finding)
        if self.notes:
            ul = ET.SubElement(root, "ul")
            for note in self.notes:
                ET.SubElement(ul, "li").text = self.note_text(note)
        ET.SubElement(root, "p").text = self.summary()
        return ET.tostring(root, encoding="unicode", method="html")

    def _html_finding(self, cell, finding) -> None:
        words = self.finding_words(finding)
        block = ET.SubElement(cell, "div")
        ET.SubElement(block, "b").text = f"{SYMBOLS[finding['severity']]} {words['message']} [{finding['id']}]"
        dl = ET.SubElement(block, "dl")
        for key, value in self._finding_fields(finding, words):
            ET.SubElement(dl, "dt").text = self._(LABELS[key])
            ET.SubElement(dl, "dd").text = value
