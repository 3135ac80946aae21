"""Publisher key-points boxes are the summary; without one the seed is still summarised faithfully."""

from __future__ import annotations

import pytest

from bot.core.summary import summarize
from bot.core.summary.keypoints import find_key_points
from bot.core.summary.sentences import split_blocks

from .conftest import BOX_ITEMS

SEED_TITLE = "Nordkoreas Diktator Kim Jong-Un verlässt sein Land nur ungern"


def test_seed_summary_is_its_key_points_box(seed_body: str) -> None:
    assert summarize(seed_body, lang="de") == BOX_ITEMS
    assert summarize(seed_body) == BOX_ITEMS  # language guessed
    assert summarize(seed_body, lang="de", title=SEED_TITLE) == BOX_ITEMS


@pytest.mark.parametrize("title", [None, SEED_TITLE])
def test_seed_without_box_still_names_russia_the_arms_deal_and_the_ammunition(
    seed_without_box: str, title: str | None
) -> None:
    bullets = summarize(seed_without_box, lang="de", title=title)
    assert len(bullets) == 3
    joined = " ".join(bullets)
    for fact in ("Russland", "Waffendeal", "Munition"):
        assert fact in joined, (fact, bullets)


def test_box_items_with_focus_put_the_item_naming_it_first(seed_body: str) -> None:
    bullets = summarize(seed_body, lang="de", focus=lambda s: "Moskau" in s)
    assert bullets[0] == BOX_ITEMS[2]
    assert sorted(bullets) == sorted(BOX_ITEMS)


def test_box_without_the_focus_leads_with_the_article_sentence_naming_it(seed_body: str) -> None:
    bullets = summarize(seed_body, lang="de", focus=lambda s: "Kirby" in s)
    assert "Kirby" in bullets[0]
    assert bullets[1:] == BOX_ITEMS[:2]


def test_box_respects_the_budget(seed_body: str) -> None:
    bullets = summarize(seed_body, lang="de", max_bullets=2, max_chars=60)
    assert len(bullets) == 2
    assert all(len(b) <= 60 and b.endswith("…") for b in bullets)


@pytest.mark.parametrize(
    ("text", "items"),
    [
        (
            "Key points:\n- The talks made good progress\n- Russia hopes to join by 2006\n- Bush backs the bid\n\n"
            "Talks on Russia's membership of the WTO have been making good progress. More talks follow.",
            ["The talks made good progress", "Russia hopes to join by 2006", "Bush backs the bid"],
        ),
        (
            "The minister spoke on Monday. She was clear.\n\nAt a glance\n\n• Taxes rise in April.\n\n"
            "• Pensions are frozen.\n\nThe budget was presented to parliament on Monday afternoon. It passed.",
            ["Taxes rise in April.", "Pensions are frozen."],
        ),
        (
            "In brief\n1. Rates stay at 5%.\n2. Inflation is falling.\nThe central bank met on Thursday.",
            ["Rates stay at 5%.", "Inflation is falling."],
        ),
        (
            "Auf einen Blick\n\nDer Bundestag hat das Gesetz beschlossen.\n\nEs tritt im Januar in Kraft.\n\n"
            "Die Opposition stimmte dagegen. Sie will klagen. Das Verfahren kann Jahre dauern.",
            ["Der Bundestag hat das Gesetz beschlossen.", "Es tritt im Januar in Kraft."],
        ),
    ],
)
def test_key_point_boxes_in_both_languages(text: str, items: list[str]) -> None:
    assert summarize(text) == items[:3]


@pytest.mark.parametrize(
    "text",
    [
        "In Kürze soll das Gesetz in Kraft treten. Die Regierung hofft auf Zustimmung.\n\nDie Opposition ist dagegen.",
        "Summary judgment was granted on Friday. The company will appeal.\n\nThe case goes on.",
        "Das Wichtigste ist, dass niemand verletzt wurde. Die Feuerwehr war schnell da.",
        "Key points\n\nThe minister resigned on Monday after weeks of pressure from her own party. Her deputy "
        "takes over. Elections are due next year.",
    ],
)
def test_prose_is_not_a_box(text: str) -> None:
    assert find_key_points(split_blocks(text), "de") is None
