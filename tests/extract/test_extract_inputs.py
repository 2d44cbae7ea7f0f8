"""Reports as users have them: PDF, saved web page, plain text, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.cli import app
from tracker.errors import InputFileError
from tracker.extract.inputs import MAX_TEXT_BYTES, html_text, read_report

NOTE = [
    "Some Wire, 3 February 2026",
    "UBS kept its rating at Buy on Kingdee (00268.HK) with a target price of HK$12.50.",
]


def _pdf(path: Path, pages: list[list[str]], password: str | None = None) -> Path:
    """A PDF whose pages carry ``pages`` as text (Helvetica), or no text when a page is []."""
    from pypdf import PdfWriter
    from pypdf.generic import (
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
    )

    writer = PdfWriter()
    for lines in pages:
        page = writer.add_blank_page(width=612, height=792)
        if not lines:
            continue
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
        )
        ops = ["BT", "/F1 10 Tf", "14 TL", "40 750 Td"]
        for line in lines:
            esc = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({esc}) Tj T*")
        ops.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(ops).encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
    if password is not None:
        writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def test_pdf_text_layer_page_by_page(tmp_path):
    path = _pdf(tmp_path / "note.pdf", [["Cover page"], NOTE])
    text = read_report(path)
    lines = text.splitlines()
    assert lines[0] == "[page 1]"
    assert "[page 2]" in lines
    assert "target price of HK$12.50" in text


def test_pdf_without_text_layer_says_so(tmp_path):
    path = _pdf(tmp_path / "scan.pdf", [[], []])
    with pytest.raises(InputFileError, match=r"no text layer on any of its 2 page\(s\)"):
        read_report(path)


def test_encrypted_pdf_says_so(tmp_path):
    path = _pdf(tmp_path / "locked.pdf", [NOTE], password="secret")
    with pytest.raises(InputFileError, match="the PDF is encrypted"):
        read_report(path)


def test_damaged_pdf_is_one_line(tmp_path):
    path = tmp_path / "bad.pdf"
    path.write_bytes(b"%PDF-1.4\nnot really a pdf\n")
    with pytest.raises(InputFileError) as err:
        read_report(path)
    assert "\n" not in str(err.value)


def test_html_page_text_blocks_and_table_cells():
    html = """<!doctype html><html><head><title>t</title><style>p{}</style></head><body>
    <nav>Home | Markets</nav><script>var x = "目標價 1 港元";</script>
    <h1>瑞銀上調金蝶目標價</h1><p>2026-02-03</p>
    <table><tr><th>股份</th><th>評級</th><th>目標價</th></tr>
    <tr><td>金蝶(00268.HK)</td><td>買入</td><td>10港元→12港元</td></tr></table>
    </body></html>"""
    lines = html_text(html).splitlines()
    assert "瑞銀上調金蝶目標價" in lines
    assert "2026-02-03" in lines
    assert "股份 | 評級 | 目標價" in lines
    assert "金蝶(00268.HK) | 買入 | 10港元→12港元" in lines
    assert not any("var x" in line or "Home" in line for line in lines)


def test_html_file_read_by_content(tmp_path):
    path = tmp_path / "page.txt"
    path.write_text("<html><body><p>Hello</p><p>World</p></body></html>", encoding="utf-8")
    assert read_report(path).split() == ["Hello", "World"]


@pytest.mark.parametrize(
    "content, message",
    [
        pytest.param(b"", "the file is empty", id="empty"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00", "a binary file", id="binary"),
        pytest.param("目標價".encode("big5"), "not UTF-8", id="not-utf8"),
        pytest.param(b"<html><body> </body></html>", "the file has no text", id="empty-html"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, content, message):
    path = tmp_path / "x.txt"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        read_report(path)


def test_oversized_text_is_refused(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * (MAX_TEXT_BYTES + 1))
    with pytest.raises(InputFileError, match="the limit for text is"):
        read_report(path)


def test_cli_extracts_a_pdf(tmp_path, monkeypatch):
    from datetime import date

    monkeypatch.setattr("tracker.sessions.today_hk", lambda: date(2026, 6, 30))
    monkeypatch.setenv("TRACKER_HOME", str(tmp_path / "home"))
    path = _pdf(tmp_path / "note.pdf", [NOTE])
    result = CliRunner().invoke(app, ["recs", "extract", str(path)])
    assert result.exit_code == 0, result.output
    assert "ticker: 0268.HK" in result.stdout
    assert "value: 12.5" in result.stdout
    assert "published: 2026-02-03" in result.stdout


def test_cli_encrypted_pdf_is_one_error_line(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_HOME", str(tmp_path / "home"))
    path = _pdf(tmp_path / "locked.pdf", [NOTE], password="pw")
    result = CliRunner().invoke(app, ["recs", "extract", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{path}: the PDF is encrypted: save an unlocked copy (or its text) and retry"
    )


def test_cli_round_up_needs_a_folder_then_writes_one_draft_per_broker(tmp_path, monkeypatch):
    from datetime import date

    monkeypatch.setattr("tracker.sessions.today_hk", lambda: date(2026, 6, 30))
    monkeypatch.setenv("TRACKER_HOME", str(tmp_path / "home"))
    note = tmp_path / "roundup.txt"
    note.write_text(
        "某報\n2025-02-03\n\n花旗把金蝶國際(00268.HK)目標價由10港元降至9港元，維持「買入」評級。\n"
        "瑞銀則將金蝶國際評級由買入下調至中性，目標價8港元。\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    refused = runner.invoke(app, ["recs", "extract", str(note), "-o", str(tmp_path / "one.yaml")])
    assert refused.exit_code == 1
    assert "2 brokers' calls (a round-up): give a folder" in refused.stderr
    out = tmp_path / "drafts"
    out.mkdir()
    result = runner.invoke(app, ["recs", "extract", str(note), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.yaml")) == [
        "2025-02-03-citi-roundup.yaml",
        "2025-02-03-ubs-roundup.yaml",
    ]
    ubs = (out / "2025-02-03-ubs-roundup.yaml").read_text(encoding="utf-8")
    assert "previous_rating: buy" in ubs and "action: downgrade" in ubs
