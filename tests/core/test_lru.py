"""The bounded LRU mapping behind the delivery caches."""

from __future__ import annotations

import pytest

from bot.core.lru import LRUCache


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert "b" not in cache
    assert (cache.get("a"), cache.get("c"), len(cache)) == (1, 3, 2)


def test_overwriting_refreshes_and_does_not_grow() -> None:
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (10, None, 3)


def test_get_or_compute_computes_once_per_key() -> None:
    cache: LRUCache[int, str] = LRUCache(4)
    calls: list[int] = []

    def compute(key: int) -> str:
        calls.append(key)
        return f"v{key}"

    assert [cache.get_or_compute(k, lambda k=k: compute(k)) for k in (1, 2, 1, 1, 2)] == ["v1", "v2", "v1", "v1", "v2"]
    assert calls == [1, 2]


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        LRUCache(0)
