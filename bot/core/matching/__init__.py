"""Entity-aware matching of subscriptions against articles.

``MatchEngine.load()`` reads the shipped lexicon (``config/lexicon/*.toml``); ``SubscriptionIndex`` compiles
all active subscriptions into one Aho-Corasick automaton.
"""

from bot.core.matching.engine import Hit, MatchEngine, MatchResult, Resolution
from bot.core.matching.index import SubscriptionIndex
from bot.core.matching.lexicon import LexiconError
from bot.core.matching.query import QueryError
from bot.core.matching.vocabulary import Vocabulary, VocabularyError

__all__ = [
    "Hit", "LexiconError", "MatchEngine", "MatchResult", "QueryError", "Resolution",
    "SubscriptionIndex",
    "Vocabulary",
    "VocabularyError",
]
