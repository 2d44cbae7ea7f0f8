"""The text of the files users have: plain text, a PDF's text layer, a saved web page.

:func:`read_report` picks the reader by the file's first bytes (``%PDF-``, an
HTML tag) before its suffix, and refuses with one line (an
:class:`~tracker.errors.InputFileError`) what cannot be read: an empty file, a
binary, a file over the limit, an encrypted PDF, a scanned PDF without a text
layer. A PDF's pages are separated by a ``[page N]`` line, so each value's
source line in the draft tells its page.
"""

from __future__ import annotations

import re
from pathlib import Path

from tracker.errors import InputFileError

#: Largest text or web page read (a report's text is far smaller).
MAX_TEXT_BYTES = 2 * 1024 * 1024
#: Largest PDF read (scanned pages make PDFs large).
MAX_PDF_BYTES = 50 * 1024 * 1024

_PAGE = "[page {n}]"
_HTML_START = re.compile(rb"^\s*(?:<!doctype\s+html|<html|<head|<body|<meta|<div|<p\b|<!--)", re.I)


def read_report(path: Path) -> str:
    """The report's text, whatever its format.

    Parameters
    ----------
    path : Path
        A ``.txt`` (UTF-8), ``.pdf`` or ``.html``/``.htm`` file.

    Returns
    -------
    str
        The text; a PDF's pages each open with a ``[page N]`` line.

    Raises
    ------
    InputFileError
        Unreadable, empty, binary, too large, encrypted, or a PDF with no text layer.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise InputFileError(path, f"cannot read file: {exc.strerror or exc}") from None
    if size == 0:
        raise InputFileError(path, "the file is empty")
    if head.startswith(b"%PDF-"):
        return pdf_text(path, size)
    if size > MAX_TEXT_BYTES:
        raise InputFileError(
            path, f"file is {size:,} bytes; the limit for text is {MAX_TEXT_BYTES:,}: split it"
        )
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise InputFileError(path, "a binary file, not text, PDF or HTML: save the report as one")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputFileError(
            path, f"not UTF-8 (byte 0x{raw[exc.start]:02x}): save the file as UTF-8", line=line
        ) from None
    if path.suffix.lower() in (".html", ".htm", ".xhtml") or _HTML_START.match(raw):
        text = html_text(text)
    if not text.strip():
        raise InputFileError(path, "the file has no text")
    return text


def pdf_text(path: Path, size: int | None = None) -> str:
    """A PDF's text layer, page by page (``[page N]`` lines between pages).

    Raises
    ------
    InputFileError
        Too large, damaged, encrypted, or no text on any page (a scan: run OCR first).
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    size = path.stat().st_size if size is None else size
    if size > MAX_PDF_BYTES:
        raise InputFileError(path, f"PDF is {size:,} bytes; the limit is {MAX_PDF_BYTES:,}")
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            # An owner password alone still opens with an empty user password.
            try:
                opened = reader.decrypt("")
            except Exception:  # noqa: BLE001 - a cipher pypdf cannot use counts as locked
                opened = 0
            if not opened:
                raise InputFileError(
                    path, "the PDF is encrypted: save an unlocked copy (or its text) and retry"
                )
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputFileError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise InputFileError(path, f"not a readable PDF: {exc}") from None
    if not any(p.strip() for p in pages):
        raise InputFileError(
            path,
            f"the PDF has no text layer on any of its {len(pages)} page(s) (a scan?):"
            " run OCR or copy the text out",
        )
    return "\n".join(f"{_PAGE.format(n=i)}\n{p.strip()}\n" for i, p in enumerate(pages, 1))


_BLOCKS = (
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "time",
    "blockquote",
)


def html_text(html: str) -> str:
    """A web page's readable text: one line per block, table cells joined by ``|``.

    Scripts, styles, navigation and forms are left out.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "noscript", "nav", "form", "svg", "iframe", "head"]):
        tag.decompose()
    for cell in soup.find_all(["td", "th"]):
        cell.insert_after(" | ")
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = soup.get_text()
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip(" |") for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"
