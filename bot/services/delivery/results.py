"""What one delivery pass (or one chat's delivery) achieved."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    sent_items: int = 0
    messages: int = 0
    left_over: int = 0
    failed: int = 0  # rows that could not go out now (they are retried later)


def total(results: Iterable[DeliveryResult]) -> DeliveryResult:
    sent = messages = left_over = failed = 0
    for r in results:
        sent, messages, left_over, failed = (
            sent + r.sent_items,
            messages + r.messages,
            left_over + r.left_over,
            failed + r.failed,
        )
    return DeliveryResult(sent, messages, left_over, failed)
