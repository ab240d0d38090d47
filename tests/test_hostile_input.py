"""Binary, empty and huge input: refused with a one-line reason, skipped, or read within bounds."""

from __future__ import annotations

import gzip
import io
import logging
import sys
import tracemalloc
import zlib

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.ingest import sources
from bot.ingest.pipeline import Ingestor
from bot.storage import Article
from summarizer import Summarizer
from summarizer.backends.extractive import MAX_SENTENCES, ExtractiveBackend
from tests.support.cli import newsbot
from tests.support.data import DEMO

PAGE = (DEMO / "english" / "2023-02-25-wetland.html").read_bytes()
BINARIES = {
    "gzip": (gzip.compress(PAGE), "gzip-compressed data (decompress it first)"),
    "zip": (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)), "a zip archive"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "a PDF document"),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "a PNG image"),
    "elf": (b"\x7fELF\x02\x01\x01" + bytes(57) + b"GCC: (Debian 12.2.0-14) 12.2.0", "an ELF executable"),
    "nul": ("梁平區春耕備耕有序推進。".encode() + b"\x00\x01\x02" * 20, "it holds NUL bytes"),
}


@pytest.mark.parametrize("command", ["summarize", "extract"])
@pytest.mark.parametrize("kind", BINARIES)
def test_binary_files_are_refused_with_one_line(tmp_path, clean_environment, capsys, command, kind):
    data, reason = BINARIES[kind]
    path = tmp_path / f"page.{kind}.html"
    path.write_bytes(data)
    assert main([command, str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"newsbot: error: {path}: not text: ") and reason in captured.err
    assert captured.err.count("\n") == 1


def test_binary_stdin_is_refused(clean_environment, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BINARIES["gzip"][0])))
    assert main(["summarize", "-"]) == 2
    assert capsys.readouterr().err == "newsbot: error: stdin: not text: it is gzip-compressed data (decompress it first)\n"


def test_utf16_text_with_its_byte_order_mark_is_still_text(tmp_path, clean_environment, capsys):
    path = tmp_path / "brief.txt"
    path.write_bytes("梁平區今年計劃新建標準化廠房20萬平方米，並開通直達東盟國家的冷鏈班列。".encode("utf-16"))
    assert main(["extract", str(path)]) == 0
    assert "冷鏈班列" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["extract", "summarize"])
@pytest.mark.parametrize("name, content, message", [
    ("empty.txt", b"", "it is empty (give a page or a text with an article)"),
    ("blank.txt", b" \n\t\n", "it is empty (give a page or a text with an article)"),
    ("blank.html", b"<html><head><title></title></head><body>  </body></html>", "no article text found"),
])
@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
def test_empty_input_exits_2_without_library_warnings(tmp_path, command, name, content, message):
    (tmp_path / name).write_bytes(content)
    result = newsbot(command, name, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"newsbot: error: {name}: {message}\n"  # no trafilatura warning before it


async def test_files_source_reads_gzipped_files_and_skips_binary_and_bombs(tmp_path, db, make_settings, caplog):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a-wetland.html.gz").write_bytes(gzip.compress(PAGE))
    (folder / "b-image.html").write_bytes(BINARIES["png"][0])
    (folder / "c-program.txt").write_bytes(BINARIES["elf"][0])
    bomb = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 200 MB of spaces in a few hundred KB
    (folder / "d-bomb.txt.gz").write_bytes(b"".join(bomb.compress(b" " * 1_000_000) for _ in range(200)) + bomb.flush())
    (folder / "e-corrupt.txt.gz").write_bytes(gzip.compress(PAGE)[:100])
    settings = make_settings(f'[[sources]]\nname = "local"\nkind = "files"\nurl = "{folder}"\n')
    with caplog.at_level(logging.WARNING, logger="bot.ingest.sources"):
        [report] = await Ingestor(settings, db, Summarizer()).run()
    assert (report.new, report.errors) == (1, [])
    with db.session() as session:
        titles = session.scalars(select(Article.title)).all()
    assert titles == ["Migratory birds return to Liangping's Shuanggui Lake wetland"]
    skipped = sorted(r.getMessage().split("/news/")[1] for r in caplog.records)
    assert skipped == [
        "b-image.html: not text: it is a PNG image",
        "c-program.txt: not text: it is an ELF executable",
        f"d-bomb.txt.gz: larger than {sources.MAX_FILE_BYTES} bytes once inflated",
        "e-corrupt.txt.gz: corrupt gzip file: it ends early",
    ]


def test_a_gzip_bomb_is_inflated_no_further_than_the_cap(tmp_path):
    bomb = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    path = tmp_path / "bomb.html.gz"
    path.write_bytes(b"".join(bomb.compress(b"\0" * 1_000_000) for _ in range(100)) + bomb.flush())  # 100 MB inflated
    tracemalloc.start()
    with pytest.raises(sources.SourceError, match="once inflated"):
        sources._read_file(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 * sources.MAX_FILE_BYTES


def test_a_huge_text_costs_the_extractive_summarizer_no_more_than_its_start():
    head = "\n".join(f"Volunteers counted {n} migratory birds at the lake on day {n} of the survey this winter."
                     for n in range(MAX_SENTENCES))
    tail_a = "\nThe railway station opened a new platform for freight trains to the coast this spring." * 60_000  # 5 MB
    tail_b = "\nFarmers in the district planted rice on three thousand mu of paddy fields this week." * 60_000
    backend = ExtractiveBackend()
    tracemalloc.start()
    summary = backend.summarize(head + tail_a, "en")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert summary == backend.summarize(head + tail_b, "en") == backend.summarize(head, "en")  # the tail is never ranked
    assert summary.startswith("Volunteers counted 0 migratory birds")
    assert peak < 50_000_000  # ranking every sentence of 5 MB took gigabytes

