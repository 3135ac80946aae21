"""FTS5 query injection through ``/search``, ``/latest <q>`` and ``newsalert search``: hypothesis writes
queries full of FTS5 syntax (quotes, ``*``, ``^``, ``NEAR(…)``, column filters, ``AND/OR/NOT``, ``-``) and
the archive must answer without an error and without the syntax changing what a word means: every word of
the query must occur in every result, and every article containing all the words is found. Every case runs
on SQLite (FTS5) and on PostgreSQL (tsvector), whose query syntax differs (``&``, ``|``, ``!``, ``<->``)."""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import App
from bot.cli import main as cli_main
from bot.core.ingest import ParsedItem
from bot.core.messaging import IncomingCommand, html_to_text
from bot.core.models import ArticleDraft
from bot.storage.store import Storage
from config.settings import Settings
from tests.pg import BACKENDS, PgServer
from tests.reliability.support import LoopApp, Snapshot, changed_tables, fts_consistent, snapshot

pytestmark = pytest.mark.reliability

# Words of the archive, including the FTS5 keywords as ordinary words: "and" must mean the word "and".
BODIES = [
    "alpha bravo charlie",
    "alpha and bravo",
    "bravo or delta near echo",
    "charlie not delta",
    "echo echo alpha near",
    "delta bravo and or not",
    "foxtrot alone",
    "alpha charlie echo foxtrot and",
]
VOCABULARY = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "and", "or", "not", "near", "item"]
FTS_SYNTAX = [
    '"',
    "*",
    "^",
    ":",
    "(",
    ")",
    "-",
    "+",
    "{",
    "}",
    ",",
    "'",
    ".",
    "title:",
    "body:",
    "{title body}:",
    "NEAR(",
    ", 2)",
    "AND",
    "OR",
    "NOT",
    "\\",
    "%",
    ";",
    "--",
    "/*",
    "\x00",
    # PostgreSQL's tsquery operators must be words' separators there too.
    "&",
    "|",
    "!",
    "<->",
    "<2>",
    ":*",
    "$1",
    "?",
]
FTS_QUERY = st.lists(
    st.tuples(
        st.one_of(
            st.sampled_from(VOCABULARY).map(lambda w: w.upper() if len(w) % 2 else w),
            st.sampled_from(FTS_SYNTAX),
        ),
        st.sampled_from(["", " "]),
    ),
    min_size=1,
    max_size=12,
).map(lambda parts: "".join(token + gap for token, gap in parts).strip())

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The environment set through monkeypatch is the same for every example, so sharing it is safe.
FUZZ_CLI = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
WORD = re.compile(r"[^\W_]+")
INTERNAL_ERROR = re.compile(r"something went wrong")


def title_of(n: int) -> str:
    return f"Item {n:02d}"


def tokens(text: str) -> set[str]:
    return {w.casefold() for w in WORD.findall(text)}


ARTICLE_TOKENS = {title_of(n): tokens(f"{title_of(n)} {body}") for n, body in enumerate(BODIES)}


def expected_titles(query: str) -> set[str]:
    """Plain meaning: the articles containing every word of the query; no words, no results."""
    words = tokens(query)
    if not words:
        return set()
    return {title for title, found in ARTICLE_TOKENS.items() if words <= found}


@pytest.fixture(scope="module", params=BACKENDS)
def archive(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[LoopApp, App, Settings]]:
    folder = tmp_path_factory.mktemp("fts")
    url = None
    if request.param == "postgres":
        server: PgServer = request.getfixturevalue("pg_server")
        url = server.new_database()
    app_settings = Settings(  # type: ignore[call-arg]
        db_path=folder / "news.db", database_url=url, seeds_dir=folder / "none", _env_file=None
    )
    runner = LoopApp(app_settings, load_seeds=False)
    with runner as app:
        items = [
            ParsedItem(f"fts-{n}", ArticleDraft(title=title_of(n), body=body, lang="en"), "ok")
            for n, body in enumerate(BODIES)
        ]
        report = runner.run(app.services.ingest.ingest_items(items))
        assert report.count("new") == len(BODIES)
        runner.run(app.handle(_command("start", "")))
        runner.run(app.services.trends.settle())  # nothing left to write in the background
        yield runner, app, app_settings


async def _snapshot(storage: Storage) -> Snapshot:
    """Every row of every table, on either backend."""
    if storage.db.dialect == "sqlite":
        return await snapshot(storage.db.conn)  # type: ignore[attr-defined]
    state: Snapshot = {}
    for table in await storage.db.tables():
        if table != "kv":
            rows = await storage.db.fetch_all(f'SELECT * FROM "{table}"')
            state[table] = sorted([tuple(row) for row in rows], key=repr)
    return state


async def _index_consistent(storage: Storage) -> None:
    """SQLite: FTS5's own integrity check. PostgreSQL: the GIN index answers exactly what a scan of the
    generated ``tsvector`` column answers, for every word of the archive."""
    if storage.db.dialect == "sqlite":
        await fts_consistent(storage.db.conn)  # type: ignore[attr-defined]
        return
    for word in VOCABULARY:
        answers = []
        for settings_sql in ("SET LOCAL enable_seqscan = off", "SET LOCAL enable_bitmapscan = off"):
            async with storage.db.transaction() as tx:
                await tx.run(settings_sql)
                rows = await tx.fetch_all(
                    "SELECT id FROM articles WHERE search @@ phraseto_tsquery('newsalert_simple', ?) ORDER BY id",
                    (word,),
                )
            answers.append([row[0] for row in rows])
        assert answers[0] == answers[1] and answers[0], word


def _command(name: str, args: str) -> IncomingCommand:
    return IncomingCommand(platform="fts", chat_id="reader", user_id="reader", name=name, args=args)


def _listed_titles(text: str) -> set[str]:
    return set(re.findall(r"^\d+\. (Item \d\d) — ", text, flags=re.MULTILINE))


@FUZZ
@given(query=FTS_QUERY)
def test_search_command_keeps_the_meaning_of_words(
    archive: tuple[LoopApp, App, Settings], query: str
) -> None:
    runner, app, _ = archive
    before = runner.run(_snapshot(app.storage))
    reply = runner.run(app.handle(_command("search", query)))
    [text] = [html_to_text(m.html) for m in reply.messages]
    assert not INTERNAL_ERROR.search(text), text
    if query.strip():
        assert _listed_titles(text) == expected_titles(query), text
    assert changed_tables(before, runner.run(_snapshot(app.storage))) == []


@FUZZ
@given(query=FTS_QUERY)
def test_latest_with_a_query_never_errors_and_only_shows_matches(
    archive: tuple[LoopApp, App, Settings], query: str
) -> None:
    runner, app, _ = archive
    reply = runner.run(app.handle(_command("latest", query)))
    [text] = [html_to_text(m.html) for m in reply.messages]
    assert not INTERNAL_ERROR.search(text), text
    shown = set(re.findall(r"^(Item \d\d)$", text, flags=re.MULTILINE))
    if text.startswith("I could not use that query"):
        assert not shown
        return
    engine = app.services.engine
    for title in shown:
        body = BODIES[int(title.split()[1])]
        assert engine.match(query, f"{title}\n\n{body}", "en").matched, f"{title} shown for {query!r}"


@FUZZ_CLI
@given(query=FTS_QUERY)
def test_cli_search_keeps_the_meaning_of_words(
    archive: tuple[LoopApp, App, Settings], monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    _, _, app_settings = archive
    monkeypatch.setenv("NEWSALERT_DB_PATH", str(app_settings.db_path))
    if app_settings.database_url is not None:
        monkeypatch.setenv("NEWSALERT_DATABASE_URL", app_settings.database_url.get_secret_value())
    monkeypatch.setenv("NEWSALERT_LOG_LEVEL", "WARNING")
    # An earlier test's CLI run may have left a root log handler on a stream that is closed by now; the
    # command's own error line is what is checked here, so logging goes nowhere.
    monkeypatch.setattr(logging.root, "handlers", [logging.NullHandler()])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(["search", "--limit", "50", "--", query])
    expected = expected_titles(query)
    assert err.getvalue() == ""
    assert code == (0 if expected else 1)
    found = set(re.findall(r"^\s*\d+\s+undated\s+en\s+(Item \d\d)$", out.getvalue(), flags=re.MULTILINE))
    assert found == expected, out.getvalue()


def test_the_index_is_consistent_after_the_attack(archive: tuple[LoopApp, App, Settings]) -> None:
    runner, app, _ = archive
    runner.run(_index_consistent(app.storage))
    assert runner.run(app.storage.articles.count()) == len(BODIES)


def test_the_model_sees_real_differences(archive: tuple[LoopApp, App, Settings]) -> None:
    """Raw FTS5 syntax would change the answer: the model and the archive disagree with it."""
    runner, app, _ = archive
    assert expected_titles("alpha OR delta") == set()  # "or" is a word; no article has all three
    assert {a.title for a in runner.run(app.storage.articles.search("alpha OR delta"))} == set()
    assert {a.title for a in runner.run(app.storage.articles.search("alpha NEAR"))} == {"Item 04"}


def test_latest_shows_what_the_words_find(archive: tuple[LoopApp, App, Settings]) -> None:
    """The /latest property above is not vacuous: a plain query lists articles."""
    runner, app, _ = archive
    reply = runner.run(app.handle(_command("latest", "bravo")))
    text = html_to_text(reply.messages[0].html)
    shown = set(re.findall(r"^(Item \d\d)$", text, flags=re.MULTILINE))
    assert shown and shown <= {t for t, found in ARTICLE_TOKENS.items() if "bravo" in found}, text
