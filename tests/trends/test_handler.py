"""``/trend`` through the real application (real SQLite), answered as a Reply with the chart and caption."""

from __future__ import annotations

from bot.app import App
from bot.core.messaging import Reply, html_to_text
from tests.fakes import command
from tests.trends.test_chart import png_size


def only_message(reply: Reply) -> tuple[str, object]:
    assert len(reply.messages) == 1
    message = reply.messages[0]
    return html_to_text(message.html), message.image


async def test_trend_replies_with_the_chart_and_its_caption(trend_app: App) -> None:
    text, image = only_message(await trend_app.handle(command("/trend Putin")))
    assert image is not None
    assert (image.width, image.height, image.mime_type) == (1200, 675, "image/png")  # type: ignore[attr-defined]
    assert png_size(image.data) == (1200, 675)  # type: ignore[attr-defined]
    assert "Articles of the last 30 days (up to Jun 30, 2024)" in text
    assert "Putin: 4 articles" in text and "busiest day" in text
    assert "+300% against the previous 30 days" in text  # 4 against 1
    assert "Most named with Putin: Kim Jong-un 3" in text


async def test_three_queries_in_one_chart_in_german(trend_app: App) -> None:
    await trend_app.handle(command("/lang de"))
    text, image = only_message(await trend_app.handle(command("/trend Putin, Kim, Waffendeal 90d")))
    assert image is not None
    assert "Artikel der letzten 90 Tage (bis 30.06.2024)" in text
    assert "Putin: 5 Artikel" in text and "Kim: 3 Artikel" in text and "Waffendeal: 3 Artikel" in text
    assert "Am häufigsten mit Kim genannt: Wladimir Putin 3" in text


async def test_an_empty_result_is_a_sentence_not_a_chart(trend_app: App) -> None:
    text, image = only_message(await trend_app.handle(command("/trend Obama 7d")))
    assert image is None
    assert text == "No article of the last 7 days matches Obama."


async def test_bad_input_is_explained(trend_app: App) -> None:
    usage, _ = only_message(await trend_app.handle(command("/trend")))
    assert "e.g. /trend Putin 90d" in usage
    matrix, _ = only_message(await trend_app.handle(command("!trend 30d", command_prefix="!")))
    assert "e.g. !trend Putin 90d" in matrix
    too_many, _ = only_message(await trend_app.handle(command("/trend a, b, c, d")))
    assert "up to 3 queries; you gave 4" in too_many
    negative, image = only_message(await trend_app.handle(command("/trend -Trump")))
    assert "I could not understand that query" in negative and image is None
    assert "1 to 3660 days" in only_message(await trend_app.handle(command("/trend Putin 0d")))[0]


async def test_trend_is_for_everyone_and_listed_in_help(trend_app: App) -> None:
    group = command("/trend Putin", is_group=True, can_manage_chat=False)
    assert only_message(await trend_app.handle(group))[1] is not None
    assert "/trend <query>[, <query>…] [7d|30d|90d|1y]" in html_to_text(
        (await trend_app.handle(command("/help"))).messages[0].html
    )


async def test_today_is_the_chats_today(trend_app: App) -> None:
    """12:00 UTC on 30 June is already 1 July east of UTC+12: the period ends on the chat's date."""
    service = trend_app.services.trends
    assert str(service.today("UTC")) == "2024-06-30"
    assert str(service.today("Pacific/Kiritimati")) == "2024-07-01"  # UTC+14
    assert str(service.today("Not/AZone")) == "2024-06-30"  # an unknown zone falls back to UTC
    await trend_app.handle(command("/timezone Pacific/Kiritimati"))
    text, _ = only_message(await trend_app.handle(command("/trend Putin")))
    assert "(up to Jul 1, 2024)" in text
