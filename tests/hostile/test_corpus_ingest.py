"""Every document of feedparser's test corpus through ``newsalert ingest``: stored articles or a clear
rejection for each, no traceback, nothing half-stored; titles read as feedparser's ``Expect:`` says.

One database and one pass over the whole corpus folder, as an admin would run it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.clock import FakeClock
from bot.core.models import IngestOutcome, IngestReport
from bot.services.ingest import IngestService
from bot.storage.store import Storage
from tests.hostile.corpus import CORPUS, Document, documents, expectation
from tests.hostile.expected import mismatch, reader_text, reference, verdict
from tests.hostile.world import START

# The parser's catch-all: a reason starting so means a parser crashed on the document.
CRASH_MARKERS = ("could not parse feed:", "internal error", "Traceback")


@pytest.fixture(scope="module")
def corpus() -> tuple[Document, ...]:
    if not CORPUS.is_dir():
        pytest.skip(f"feedparser corpus {CORPUS} not available")
    return documents()


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    store = await Storage.open(tmp_path / "corpus.db")
    yield store
    await store.close()


def by_document(report: IngestReport) -> dict[str, list[IngestOutcome]]:
    grouped: dict[str, list[IngestOutcome]] = defaultdict(list)
    for outcome in report.outcomes:
        grouped[outcome.source.split("#item-", 1)[0]].append(outcome)
    return grouped


async def test_every_document_is_stored_or_rejected_with_a_reason(
    corpus: tuple[Document, ...], storage: Storage
) -> None:
    report = await IngestService(storage, FakeClock(START)).ingest_path(CORPUS, alert=False)
    grouped = by_document(report)
    assert "unsupported file type" in grouped.pop(str(CORPUS / "LICENSE"))[0].reason
    assert set(grouped) == {str(d.path) for d in corpus}  # every document has an outcome, none extra
    for outcomes in grouped.values():
        for outcome in outcomes:
            assert outcome.status in ("new", "duplicate", "rejected"), outcome
            if outcome.status == "rejected":
                assert outcome.reason and not outcome.reason.startswith(CRASH_MARKERS), outcome
    # Nothing half-stored: every article reported new is in the archive, and nothing else is.
    new_ids = [o.article_id for o in report.outcomes if o.status == "new"]
    assert None not in new_ids and len(new_ids) == await storage.articles.count() > 0
    assert len(await storage.articles.get_many(new_ids)) == len(new_ids)
    await _titles_read_as_expected(corpus, grouped, storage)


async def _titles_read_as_expected(
    corpus: tuple[Document, ...], grouped: dict[str, list[IngestOutcome]], storage: Storage
) -> None:
    """A stored article whose document states its title's expected value shows exactly that text."""
    checked = 0
    for document in corpus:
        wanted = expectation(document)
        if wanted is None or wanted.key != "title" or wanted.entry is None:
            continue
        outcome = next(
            (o for o in grouped[str(document.path)] if o.source.endswith(f"#item-{wanted.entry + 1}")), None
        )
        if outcome is None or outcome.article_id is None:
            continue
        article = await storage.articles.get(outcome.article_id)
        assert article is not None
        assert article.title == reader_text(document, wanted), document.name
        checked += 1
    assert checked >= 1


def test_the_parser_reads_what_the_corpus_expects(corpus: tuple[Document, ...]) -> None:
    """Feed and entry titles and links, as served by the corpus's own test server (document URI, HTTP
    headers), against every ``Expect:`` that names one: entities, encodings, relative links."""
    checked, refused = 0, []
    for document in corpus:
        if expectation(document) is None:
            continue
        parsed = verdict(document)
        if parsed.error:
            refused.append(document)
            continue
        assert mismatch(document, parsed) is None, (document.name, mismatch(document, parsed))
        checked += 1
    assert checked > 400
    for document in refused:  # only documents feedparser itself calls broken, or formats we do not read
        own = reference(document)
        assert own.bozo or own.version in ("", "cdf"), document.name


def test_the_command_line_ingests_the_whole_corpus(
    corpus: tuple[Document, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``newsalert ingest`` in-process on the corpus's ill-formed and encoding folders (the whole corpus
    already went through the same ingest service above): one summary line, problems listed, no traceback."""
    monkeypatch.setenv("NEWSALERT_DB_PATH", str(tmp_path / "cli.db"))
    monkeypatch.setenv("NEWSALERT_SEEDS_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("NEWSALERT_LOG_LEVEL", "ERROR")
    folders = [CORPUS / "illformed", CORPUS / "encoding", CORPUS / "json"]
    code = main(["ingest", "--no-alerts", *map(str, folders)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in out + err
    summary = out.strip().splitlines()[-1]
    counts = dict(part.split("=") for part in summary.split())
    files = sum(1 for folder in folders for path in folder.rglob("*") if path.is_file())
    assert int(counts["new"]) > 0 and int(counts["new"]) + int(counts["rejected"]) >= files
    assert "rejected: " in err and "more problem(s)" in err
