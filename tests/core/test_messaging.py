"""The neutral message format: plain-text rendering used by the console and as a fallback."""

from __future__ import annotations

import pytest

from bot.core.messaging import html_to_text


@pytest.mark.parametrize(
    ("markup", "plain"),
    [
        (
            '<b>Kim</b> &amp; Putin: <a href="https://e.org/a?x=1&amp;y=2">source</a> '
            '<a href="https://e.org">https://e.org</a>',
            "Kim & Putin: source (https://e.org/a?x=1&y=2) https://e.org",
        ),
        ("<i>&lt;not a tag&gt;</i>\n• bullet", "<not a tag>\n• bullet"),
        ("<code>/subscribe Putin</code>", "/subscribe Putin"),
        ('<b><a href="https://x.org">Title</a></b>', "Title (https://x.org)"),
        ("no markup at all", "no markup at all"),
    ],
)
def test_html_to_text(markup: str, plain: str) -> None:
    assert html_to_text(markup) == plain
