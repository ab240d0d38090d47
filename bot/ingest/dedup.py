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
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import numpy as np
from datasketch import MinHash, MinHashLSH

from summarizer.text import is_chinese, normalise_for_matching

NUM_PERM = 128
SCHEME = "affine32"
CANDIDATE_JACCARD = 0.15  # LSH recall threshold; candidates are then checked by containment
GROUP_THRESHOLD = 0.6  # a republication keeping a third of the original scores > 0.9; unrelated < 0.1
MIN_SHINGLES_FOR_CONTAINMENT = 40
# Query parameters that only say how a reader came to a page, by exact (lower-case) name: any
# other parameter may pick the article (view.asp?spmid=1001), so none is dropped by prefix.
TRACKING_PARAMS = frozenset(
    {
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "utm_id",
        "utm_name",
        "utm_brand",
        "utm_social",
        "utm_social-type",
        "utm_cid",
        "utm_reader",
        "utm_viz_id",
        "utm_pubreferrer",
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "spm",
        "scm",
        "from",
        "share",
        "share_token",
        "share_source",
        "share_medium",
        "shareid",
        "isappinstalled",
        "scene",
        "wfr",
        "clicktime",
        "enterid",
        "sharer_sharetime",
        "sharer_shareid",
        "from_source",
        "share_from",
    }
)
_QUERY_SAFE = "!$%&'()*+,/:;=?@[]~"  # characters quote() leaves as they are in a query: only others are escaped


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, default port or tracking parameters
    (:data:`TRACKING_PARAMS`), sorted query."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        return url.strip()
    host = (parts.hostname or "").lower()
    if parts.port and not ((parts.scheme == "http" and parts.port == 80) or (parts.scheme == "https" and parts.port == 443)):
        host = f"{host}:{parts.port}"
    # Latin-1 maps every byte to one character and back: values that are not UTF-8 (a GBK search
    # term) keep their bytes instead of all turning into U+FFFD, and so stay apart.
    pairs = parse_qsl(quote(parts.query, safe=_QUERY_SAFE), keep_blank_values=True, encoding="latin-1")
    query = sorted((k, v) for k, v in pairs if k.lower() not in TRACKING_PARAMS)
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", urlencode(query, encoding="latin-1"), ""))


def content_hash(title: str, text: str) -> str:
    """Hash of title and text after width, case, script and punctuation folding."""
    return hashlib.sha256(normalise_for_matching(f"{title}\n{text}").encode("utf-8")).hexdigest()


@dataclass
class Signature:
    """A MinHash of an article's shingles and how many distinct shingles it had."""

    minhash: MinHash
    size: int

    def to_bytes(self) -> bytes:
        """Compact storage form: the shingle count, then the hash values (uint64)."""
        return np.concatenate([[self.size], self.minhash.hashvalues]).astype(np.uint64).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        """Inverse of :meth:`to_bytes`."""
        values = np.frombuffer(data, dtype=np.uint64)
        return cls(MinHash(num_perm=NUM_PERM, hashvalues=values[1:].copy(), scheme=SCHEME), int(values[0]))

    def similarity(self, other: Signature) -> float:
        """Containment of the smaller text in the larger one, estimated from the Jaccard index.

        A republication that keeps only part of the original scores high, which Jaccard
        alone would not. Very short texts fall back to plain Jaccard.
        """
        jaccard = self.minhash.jaccard(other.minhash)
        smaller = min(self.size, other.size)
        if smaller < MIN_SHINGLES_FOR_CONTAINMENT:
            return jaccard
        overlap = jaccard * (self.size + other.size) / (1 + jaccard)
        return min(overlap / smaller, 1.0)


def text_signature(text: str, language: str) -> Signature:
    """Signature of character shingles: 3 characters for Chinese, 5 for other scripts."""
    folded = normalise_for_matching(text)
    width = 3 if is_chinese(language) else 5
    shingles = {folded[i : i + width] for i in range(max(len(folded) - width + 1, 1))}
    minhash = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    minhash.update_batch([s.encode("utf-8") for s in shingles])
    return Signature(minhash, len(shingles))


@dataclass
class _Entry:
    story_id: int
    when: datetime
    signature: Signature


class StoryIndex:
    """Finds the story a new article belongs to among recent articles."""

    def __init__(self, window: timedelta, threshold: float = GROUP_THRESHOLD) -> None:
        self.window = window
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=CANDIDATE_JACCARD, num_perm=NUM_PERM)
        self._entries: dict[int, _Entry] = {}

    def add(self, article_id: int, story_id: int, when: datetime, signature: Signature) -> None:
        """Index an article already assigned to ``story_id``."""
        if article_id in self._entries:
            return
        self._entries[article_id] = _Entry(story_id, when, signature)
        self._lsh.insert(str(article_id), signature.minhash)

    def find_story(self, when: datetime, signature: Signature) -> int | None:
        """The story of the most similar indexed article within the window, if similar enough."""
        best: tuple[float, int] | None = None
        for key in self._lsh.query(signature.minhash):
            entry = self._entries[int(key)]
            if abs(entry.when - when) > self.window:
                continue
            similarity = entry.signature.similarity(signature)
            if similarity >= self.threshold and (best is None or similarity > best[0]):
                best = (similarity, entry.story_id)
        return best[1] if best else None
