"""How often each profile's stored summaries passed the faithfulness gate over a recent window,
and why the rest fell back: for ``/stats`` and ``newsbot models stats``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select

from bot.storage import Article, Summary
from bot.storage.db import Sessions
from bot.texts import t
from summarizer.backends.extractive import ExtractiveBackend
from summarizer.outcomes import reason_class
from summarizer.text import language_family

HOURS = 24  # the window /stats reports, and `newsbot models stats` by default
TOP_REASONS = 3


@dataclass(frozen=True)
class ProfileAcceptance:
    """One profile's summaries of the window: how many were the model's own (``accepted``),
    how many fell back, and the most frequent classes of reason (:func:`reason_class`)."""

    profile: str
    model: str  # what wrote its accepted summaries (the latest), else its latest summary
    total: int
    accepted: int
    fallbacks: int
    top_reasons: list[tuple[str, int]]

    @property
    def extractive(self) -> bool:
        """Whether the profile is the extractive summarizer itself: its accepted summaries are
        written by it (a model profile's are the model's; its fallbacks only are extractive)."""
        return self.accepted > 0 and self.model == ExtractiveBackend.model

    @property
    def share(self) -> int:
        """Accepted summaries in percent, rounded."""
        return round(100 * self.accepted / self.total) if self.total else 0

    def to_dict(self) -> dict:
        """JSON-ready form (``newsbot models stats --json``)."""
        return {
            "profile": self.profile,
            "model": self.model,
            "extractive": self.extractive,
            "total": self.total,
            "accepted": self.accepted,
            "fallbacks": self.fallbacks,
            "top_reasons": [{"reason": reason, "count": count} for reason, count in self.top_reasons],
        }


class _Group(NamedTuple):
    """Summaries of one profile alike in model, outcome and reason."""

    model: str
    fallback: bool
    reason: str | None
    summaries: int  # how many (not ``count``: a tuple's method has that name)
    latest: datetime


def acceptance(db: Sessions, since: datetime) -> list[ProfileAcceptance]:
    """Each profile's summaries made since ``since``, profiles by name. Translations (stored
    in a language family other than their article's) are left out."""
    query = (
        select(
            Summary.profile,
            Summary.model,
            Summary.fallback,
            Summary.reason,
            Summary.language,
            Article.language,
            func.count(),
            func.max(Summary.created_at),
        )
        .join(Article, Summary.article_id == Article.id)
        .where(Summary.created_at >= since)
        .group_by(Summary.profile, Summary.model, Summary.fallback, Summary.reason, Summary.language, Article.language)
    )
    groups: dict[str, list[_Group]] = {}
    with db.session() as session:
        for profile, model, fallback, reason, language, article_language, count, latest in session.execute(query):
            if language_family(language) == language_family(article_language):
                groups.setdefault(profile, []).append(_Group(model, fallback, reason, count, latest))
    return [_profile(name, groups[name]) for name in sorted(groups)]


def _profile(name: str, groups: list[_Group]) -> ProfileAcceptance:
    accepted = [g for g in groups if not g.fallback]
    reasons: Counter[str] = Counter()
    for group in groups:
        if group.fallback:
            reasons[reason_class(group.reason)] += group.summaries
    top = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:TOP_REASONS]
    total, made = sum(g.summaries for g in groups), sum(g.summaries for g in accepted)
    model = max(accepted or groups, key=lambda g: g.latest).model
    return ProfileAcceptance(name, model, total, made, total - made, top)


def report(profiles: list[ProfileAcceptance], hours: int, language: str) -> list[str]:
    """The lines that show ``profiles`` (a window of ``hours``) to a reader of ``language``."""
    lines = [describe(p, language) for p in profiles] or [t("gate_none", language)]
    return [t("gate_heading", language, hours=hours), *lines]


def describe(profile: ProfileAcceptance, language: str) -> str:
    """One profile's line: "• mt5-xlsum: 41/50 model (82%); fallbacks: model unavailable 9"."""
    if profile.extractive:
        line = t("gate_extractive", language, profile=profile.profile, count=profile.accepted)
    else:
        line = t(
            "gate_profile", language, profile=profile.profile, accepted=profile.accepted, total=profile.total, share=profile.share
        )
    if profile.fallbacks:
        line += t("gate_fallbacks", language, reasons=", ".join(f"{reason} {count}" for reason, count in profile.top_reasons))
    return line
