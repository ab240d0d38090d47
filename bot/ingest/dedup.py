"""Deduplication keys and story grouping.

The same article from one source is caught by canonical URL, guid or content hash. The
same story from different outlets is grouped by MinHash/LSH over character shingles of the
script-normalised text (weather bulletins are already removed, so a shared bulletin never
makes two articles look alike).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
from datasketch import MinHash, MinHashLSH

from summarizer.text import is_chinese, normalise_for_matching

NUM_PERM = 128
GROUP_THRESHOLD = 0.3  # republications that drop paragraphs score 0.4; unrelated stories < 0.05
_TRACKING_PARAMS = ("utm_", "spm", "from", "fbclid", "gclid", "share", "isappinstalled", "scene", "wfr")


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, default port or tracking parameters, sorted query."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        return url.strip()
    host = (parts.hostname or "").lower()
    if parts.port and not ((parts.scheme == "http" and parts.port == 80) or (parts.scheme == "https" and parts.port == 443)):
        host = f"{host}:{parts.port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.lower().startswith(_TRACKING_PARAMS))
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", urlencode(query), ""))


def content_hash(title: str, text: str) -> str:
    """Hash of title and text after width, case, script and punctuation folding."""
    return hashlib.sha256(normalise_for_matching(f"{title}\n{text}").encode("utf-8")).hexdigest()


def text_minhash(text: str, language: str) -> MinHash:
    """MinHash of character shingles: 3 characters for Chinese, 5 for other scripts."""
    folded = normalise_for_matching(text)
    size = 3 if is_chinese(language) else 5
    shingles = {folded[i : i + size] for i in range(max(len(folded) - size + 1, 1))}
    minhash = MinHash(num_perm=NUM_PERM)
    minhash.update_batch([s.encode("utf-8") for s in shingles])
    return minhash


def minhash_to_bytes(minhash: MinHash) -> bytes:
    """Compact storage form of a MinHash signature."""
    return minhash.hashvalues.astype(np.uint64).tobytes()


def minhash_from_bytes(data: bytes) -> MinHash:
    """Inverse of :func:`minhash_to_bytes`."""
    return MinHash(num_perm=NUM_PERM, hashvalues=np.frombuffer(data, dtype=np.uint64))


@dataclass
class _Entry:
    story_id: int
    when: datetime
    minhash: MinHash


class StoryIndex:
    """Finds the story a new article belongs to among recent articles."""

    def __init__(self, window: timedelta, threshold: float = GROUP_THRESHOLD) -> None:
        self.window = window
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._entries: dict[int, _Entry] = {}

    def add(self, article_id: int, story_id: int, when: datetime, minhash: MinHash) -> None:
        """Index an article already assigned to ``story_id``."""
        if article_id in self._entries:
            return
        self._entries[article_id] = _Entry(story_id, when, minhash)
        self._lsh.insert(str(article_id), minhash)

    def find_story(self, when: datetime, minhash: MinHash) -> int | None:
        """The story of the most similar indexed article within the window, if similar enough."""
        best: tuple[float, int] | None = None
        for key in self._lsh.query(minhash):
            entry = self._entries[int(key)]
            if abs(entry.when - when) > self.window:
                continue
            similarity = entry.minhash.jaccard(minhash)
            if similarity >= self.threshold and (best is None or similarity > best[0]):
                best = (similarity, entry.story_id)
        return best[1] if best else None
