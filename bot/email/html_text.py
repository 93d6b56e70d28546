"""Readable plain text from HTML-only mail, with the stdlib html.parser (no new dependency)."""

from __future__ import annotations

import html as html_module
import re
from html.parser import HTMLParser
from typing import List

_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "tr",
    "table",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "hr",
    "section",
    "article",
    "header",
    "footer",
    "dl",
    "dt",
    "dd",
    "address",
    "center",
}
_PARAGRAPH_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "pre"}
_SKIP_TAGS = {"script", "style", "head", "title", "template", "noscript", "svg"}


class _TextExtractor(HTMLParser):
    """Readable text from HTML: blocks become lines, list items get "- ", and
    <blockquote> (how Gmail/Apple/Outlook quote in HTML mail) becomes "> " lines
    so ``quotes.strip_quoted`` can remove it like a plain-text quote."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: List[str] = []
        self.current: List[str] = []
        self.skip = 0
        self.quote = 0
        self.pre = 0

    def _break(self) -> None:
        line = "".join(self.current)
        line = line if self.pre else re.sub(r"\s+", " ", line).strip()
        if line.strip():
            self.lines.append("> " * self.quote + line)
        self.current = []

    def _paragraph(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag in _BLOCK_TAGS:
            self._break()
            if tag == "blockquote":
                self.quote += 1
            elif tag == "li":
                self.current.append("- ")
            elif tag == "pre":
                self.pre += 1
        elif tag in ("td", "th"):
            self.current.append(" ")

    def handle_startendtag(self, tag, attrs):
        if tag in ("br", "hr", "p", "div"):
            self._break()

    def handle_endtag(self, tag):
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK_TAGS:
            self._break()
            if tag in _PARAGRAPH_TAGS:
                self._paragraph()
            if tag == "blockquote":
                self.quote = max(0, self.quote - 1)
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data):
        if not self.skip:
            self.current.append(data)

    def text(self) -> str:
        self._break()
        return re.sub(r"\n{3,}", "\n\n", "\n".join(self.lines)).strip()


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML body (stdlib html.parser; never raises)."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
        return parser.text()
    except Exception:  # html.parser can still trip over some malformed markup
        stripped = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", html)
        stripped = re.sub(r"(?s)<[^>]*>", " ", stripped)
        return re.sub(r"[ \t]+", " ", html_module.unescape(stripped)).strip()
