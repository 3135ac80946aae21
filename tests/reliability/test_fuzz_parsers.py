"""Property-based fuzzing of everything that reads user input: the seed format, the query language, the
three command-line parsers and the whole dispatcher. Nothing may raise but the documented error, and input
that is refused stores nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import App
from bot.core.i18n import Translator
from bot.core.ingest import parse_document, parse_seed_text
from bot.core.matching import MatchEngine, QueryError
from bot.core.messaging import IncomingCommand, Reply, html_to_text
from bot.transports.console import parse_line
from bot.transports.matrix import parse_command as matrix_parse_command
from bot.transports.matrix import strip_reply_fallback
from bot.transports.telegram import parse_command as telegram_parse_command
from config.settings import Settings
from handlers.registry import ADMIN_ONLY
from tests.conftest import SEEDS
from tests.reliability.support import LoopApp, Snapshot, changed_tables, snapshot

pytestmark = pytest.mark.reliability

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_APP = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Query-language and chat syntax mixed with names the lexicon knows, so examples reach deep code paths.
SYNTAX = st.sampled_from(
    [
        " ",
        "AND",
        "OR",
        "NOT",
        "-",
        '"',
        "(",
        ")",
        "*",
        "^",
        ":",
        "NEAR(",
        "@",
        "/",
        "!",
        "#",
        "\n",
        "\t",
        "\u200b",
    ]
)
WORDS = st.sampled_from(
    ["Putin", "Kim", "arms deal", "Wladiwostok", "Ukraine", "der", "the", "Kremlchef", "ÄÖÜß"]
)
QUERY_TEXT = st.lists(st.one_of(SYNTAX, WORDS, st.text(max_size=8)), max_size=14).map(" ".join)
ANY_TEXT = st.one_of(st.text(max_size=300), QUERY_TEXT)

SUBSCRIBED = ("Subscribed: ", "Abonniert: ")
INTERNAL_ERROR = re.compile(r"something went wrong|ein Fehler aufgetreten")


@pytest.fixture(scope="module")
def engine() -> MatchEngine:
    return MatchEngine.load()


# ---------------------------------------------------------------------------------------------- seed format


@FUZZ
@given(
    text=st.one_of(st.text(max_size=400), st.from_regex(r"\A\s*[Dd]ate:?[ \t]+\S{0,12}[ \t]*\n?.{0,80}\Z"))
)
def test_seed_parser_never_raises_and_keeps_the_text(text: str) -> None:
    seed = parse_seed_text(text)
    assert seed.body == seed.body.strip()
    assert seed.body in text  # the header is cut off, nothing is invented
    if seed.published is None and seed.warning is None:
        assert seed.body == text.strip()


@FUZZ
@given(
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    month_only=st.booleans(),
    body=st.text(min_size=1, max_size=200).filter(
        lambda s: s.strip() and not s.lstrip().lower().startswith("date")
    ),
    indent=st.sampled_from(["", " ", "  \t"]),
)
def test_a_valid_date_header_is_read_and_removed(day: date, month_only: bool, body: str, indent: str) -> None:
    token = day.strftime("%Y-%m") if month_only else day.isoformat()
    seed = parse_seed_text(f"{indent}date {token}\n{body}")
    assert seed.published == (day.replace(day=1) if month_only else day)
    assert seed.body == body.strip() and seed.warning is None


@FUZZ
@given(data=st.one_of(st.binary(max_size=600), ANY_TEXT.map(lambda s: ("date 2024-13-45\n" + s).encode())))
def test_seed_documents_become_items_or_reasons(data: bytes) -> None:
    items = parse_document("upload.txt", data, max_bytes=4096)
    for item in items:
        if item.draft is None:
            assert item.reason, "a rejection must say why"
        else:
            assert item.draft.title.strip() and item.draft.body.strip()


# ------------------------------------------------------------------------------------------ query language


@FUZZ
@given(query=ANY_TEXT, text=st.one_of(st.text(max_size=200), WORDS))
def test_the_query_parser_raises_only_query_errors(engine: MatchEngine, query: str, text: str) -> None:
    try:
        resolution = engine.resolve(query)
    except QueryError as exc:
        assert str(exc).strip(), "a refusal must say why"
        with pytest.raises(QueryError):
            engine.match(query, text)
        return
    assert resolution.key
    result = engine.match(query, text)
    assert result.matched in (True, False)
    assert result.reason()


# ------------------------------------------------------------------------------------------ command parsers

NAME = st.from_regex(r"\A[A-Za-z0-9_]{1,32}\Z")


@FUZZ
@given(line=st.text(max_size=200))
def test_console_lines_parse_or_are_skipped(line: str) -> None:
    parsed = parse_line(line)
    if parsed is None:
        assert not line.strip() or line.strip().startswith("#")
        return
    name, args = parsed
    assert name == name.lower() and " " not in name and "@" not in name
    assert args == args.strip()


@FUZZ
@given(text=st.text(max_size=200), bot=st.one_of(st.none(), NAME))
def test_telegram_command_parser_never_raises(text: str, bot: str | None) -> None:
    parsed = telegram_parse_command(text, bot)
    if parsed is not None:
        name, args = parsed
        assert re.fullmatch(r"[a-z0-9_]{1,32}", name)
        assert args == args.strip()


@FUZZ
@given(name=NAME, args=st.text(max_size=100), bot=NAME, other=NAME)
def test_telegram_commands_for_this_bot_only(name: str, args: str, bot: str, other: str) -> None:
    line = f"/{name}@{bot} {args}"
    assert telegram_parse_command(line, bot.upper()) == (name.lower(), args.strip())
    if other.lower() != bot.lower():
        assert telegram_parse_command(f"/{name}@{other} {args}", bot) is None


@FUZZ
@given(body=st.one_of(st.text(max_size=200), st.text(max_size=200).map(lambda s: "!" + s)))
def test_matrix_command_parser_never_raises(body: str) -> None:
    parsed = matrix_parse_command(strip_reply_fallback(body))
    if parsed is not None:
        name, args = parsed
        assert name and name == name.lower() and not any(c.isspace() for c in name)
        assert args == args.strip()


@FUZZ
@given(
    name=st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,31}\Z"),
    args=st.text(max_size=100).filter(lambda s: s == "".join(s.splitlines())),
)
def test_matrix_replies_are_commands_without_their_quote(name: str, args: str) -> None:
    body = f"> <@alice:localhost> sent a file.\n> second line\n\n!{name} {args}"
    assert matrix_parse_command(strip_reply_fallback(body)) == (name.lower(), args.strip())


# ---------------------------------------------------------------------------------------------- dispatcher


@pytest.fixture(scope="module")
def loop_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LoopApp, App]]:
    folder = tmp_path_factory.mktemp("dispatch")
    app_settings = Settings(db_path=folder / "news.db", seeds_dir=SEEDS, _env_file=None)  # type: ignore[call-arg]
    runner = LoopApp(app_settings)
    with runner as app:
        # The chats exist already: a first message creating its chat row is not "storing rejected input".
        for chat_id in ("fuzz-private", "fuzz-group"):
            runner.run(app.handle(_command("start", "", chat_id=chat_id, is_group=chat_id.endswith("group"))))
        # the seeds' trend mentions are written in the background: an example must not see them land
        runner.run(app.services.trends.settle())
        yield runner, app


def _command(name: str, args: str, **fields: object) -> IncomingCommand:
    return IncomingCommand(
        platform="fuzz",
        chat_id=str(fields.pop("chat_id", "fuzz-private")),
        user_id="u",
        name=name,
        args=args,
        **fields,
    )  # type: ignore[arg-type]


def _texts(reply: Reply) -> list[str]:
    return [html_to_text(m.html) for m in reply.messages]


def _dispatch(runner: LoopApp, app: App, command: IncomingCommand) -> tuple[Reply, Snapshot, Snapshot]:
    before = runner.run(snapshot(app.storage.db.conn))
    reply = runner.run(app.handle(command))
    after = runner.run(snapshot(app.storage.db.conn))
    return reply, before, after


@FUZZ_APP
@given(name=st.text(max_size=40), args=ANY_TEXT, group=st.booleans(), admin=st.booleans())
def test_unknown_commands_are_refused_and_store_nothing(
    loop_app: tuple[LoopApp, App], name: str, args: str, group: bool, admin: bool
) -> None:
    runner, app = loop_app
    if name in app.registry.commands:
        return
    chat = "fuzz-group" if group else "fuzz-private"
    reply, before, after = _dispatch(
        runner, app, _command(name, args, chat_id=chat, is_group=group, is_bot_admin=admin)
    )
    [text] = _texts(reply)
    assert text.startswith(("Unknown command /", "Unbekannter Befehl /"))
    assert changed_tables(before, after) == []


@FUZZ_APP
@given(data=st.data(), args=ANY_TEXT, group=st.booleans(), manager=st.booleans())
def test_admin_commands_from_non_admins_store_nothing(
    loop_app: tuple[LoopApp, App], data: st.DataObject, args: str, group: bool, manager: bool
) -> None:
    runner, app = loop_app
    admin_only = sorted(name for name, spec in app.registry.commands.items() if spec.admin_only)
    name = data.draw(st.sampled_from(admin_only))
    chat = "fuzz-group" if group else "fuzz-private"
    command = _command(name, args, chat_id=chat, is_group=group, can_manage_chat=manager, is_bot_admin=False)
    reply, before, after = _dispatch(runner, app, command)
    spec_name = app.registry.commands[name].name
    expected = [[Translator(lang)(ADMIN_ONLY, name=spec_name)] for lang in ("en", "de")]
    assert _texts(reply) in expected
    assert changed_tables(before, after) == []


# Admin commands that reach the network (feed URLs) or need a file are covered by the platform tests.
_NETWORKED = {"addfeed", "importopml", "addseed"}


@FUZZ_APP
@given(data=st.data(), args=ANY_TEXT, group=st.booleans(), manager=st.booleans(), admin=st.booleans())
def test_known_commands_with_any_arguments_never_fail_inside(
    loop_app: tuple[LoopApp, App], data: st.DataObject, args: str, group: bool, manager: bool, admin: bool
) -> None:
    runner, app = loop_app
    names = sorted(n for n, s in app.registry.commands.items() if not (admin and s.name in _NETWORKED))
    name = data.draw(st.sampled_from(names))
    spec = app.registry.commands[name]
    chat = "fuzz-group" if group else "fuzz-private"
    command = _command(name, args, chat_id=chat, is_group=group, can_manage_chat=manager, is_bot_admin=admin)
    reply, before, after = _dispatch(runner, app, command)
    texts = _texts(reply)
    assert texts and all(t.strip() for t in texts)
    assert not any(INTERNAL_ERROR.search(t) for t in texts), f"/{name} {args!r} failed inside: {texts}"
    changed = changed_tables(before, after)
    refused = spec.manages_chat and group and not (manager or admin)
    if refused or (spec.admin_only and not admin):
        assert changed == [], f"a refused /{name} changed {changed}"
    if "subscriptions" in changed:
        assert spec.name in ("subscribe", "unsubscribe")
        grew = len(after["subscriptions"]) > len(before["subscriptions"])
        assert not grew or texts[0].startswith(SUBSCRIBED), f"stored a subscription but answered {texts[0]!r}"
        if grew:  # keep the chat under its subscription limit for the next examples
            runner.run(
                app.handle(_command("unsubscribe", "1", chat_id=chat, is_group=group, is_bot_admin=True))
            )


def test_fuzz_examples_reach_the_database(loop_app: tuple[LoopApp, App]) -> None:
    """The harness can see a change: a real subscription shows up in the snapshot diff."""
    runner, app = loop_app
    reply, before, after = _dispatch(
        runner, app, _command("subscribe", "Wladiwostok", chat_id="fuzz-private")
    )
    assert _texts(reply)[0].startswith(SUBSCRIBED)
    assert "subscriptions" in changed_tables(before, after)
    runner.run(app.handle(_command("unsubscribe", "Wladiwostok", chat_id="fuzz-private")))
