"""The pieces of the database layer that need no database: placeholder translation and URL redaction."""

from __future__ import annotations

import pytest

from bot.storage.postgres import redact
from bot.storage.sql import numbered_placeholders


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1", "SELECT 1"),
        ("SELECT * FROM t WHERE a = ? AND b IN (?,?)", "SELECT * FROM t WHERE a = $1 AND b IN ($2,$3)"),
        ("SELECT '?' || ? FROM t", "SELECT '?' || $1 FROM t"),
        ("SELECT 'it''s ?', ? FROM \"odd?name\"", "SELECT 'it''s ?', $1 FROM \"odd?name\""),
        ("UPDATE t SET a = ?, b = COALESCE(?, b) WHERE id = ?", "UPDATE t SET a = $1, b = COALESCE($2, b) WHERE id = $3"),  # noqa: E501
    ],
)
def test_question_marks_outside_quotes_become_numbered(sql: str, expected: str) -> None:
    assert numbered_placeholders(sql) == expected


REDACTED = {  # URL → how it may appear in a log line or an error message
    "postgresql://bot:s3cret@db.internal:5432/news": "postgresql://bot:***@db.internal:5432/news",
    "postgresql://bot@db/news": "postgresql://bot@db/news",
    "postgres://u:p%40ss@127.0.0.1/x?sslmode=require": "postgres://u:***@127.0.0.1/x?sslmode=require",
}


@pytest.mark.parametrize("url", REDACTED)
def test_passwords_never_appear_in_messages(url: str) -> None:
    assert redact(url) == REDACTED[url]
