"""Summary bullets for alerts and digests: short, faithful, focused on what the chat follows.

``summarize`` prefers the publisher's own key-points box; otherwise it ranks the article's sentences
(position, centrality, specificity, novelty) after cleaning away captions, credits, bylines, sub-headings
and notices, and shortens long sentences at a clause boundary.
"""

from bot.core.summary.sentences import split_sentences
from bot.core.summary.summarizer import lead_bullets, summarize

__all__ = ["lead_bullets", "split_sentences", "summarize"]
