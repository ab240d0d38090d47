"""The faithfulness gate: whether a generated summary may be shown as a summary of its article.

A summary passes when it is in the article's language, does not loop, states only numbers,
dates, units and names the article has, puts each name, number and negation where the article
does (a clause of the summary is aligned with the sentences of the article that share most of
its words: a name or number from another part of the article, or a "not" the article lacks
there, is refused), and does not bring too many words of its own (novel content words, with a
threshold per language calibrated on ``benchmarks/faithfulness/``). A summary with nothing the
gate can compare (no word of the language) is not judged, and so refused.

Every refusal has a ``check`` (its class: number, date, unit, name, place, misplaced name,
misplaced number, negation, novel wording, language, unjudged, repetition, empty) and a reason
that names what was wrong.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from summarizer import quantities as q
from summarizer.text import cjk_count, is_chinese
from summarizer.wording import Token, article_names, clauses, folded, sentences, tokens

__all__ = ["Verdict", "check_summary", "judge", "names", "repeats_itself"]

# Share of a summary's content words the article may lack (paraphrase, headline words):
# above it the summary is refused. Calibrated on the project's corpus (benchmarks/faithfulness.py).
MAX_NOVELTY = {"zh": 0.6, "en": 0.4}
MIN_ALIGNMENT = 2  # content words a clause shares with the article's sentences before its names are placed
_TITLE_NAME = re.compile(
    r"(?:书记|主任|局长|部长|区长|县长|市长|镇长|村长|校长|院长|记者|经理|董事长|负责人|主席|委员)([\u4e00-\u9fff]{2,3}?)(?=[说表介称指认强在，,。：:“”])"
)
_ORGANISATIONS = frozenset("集团 公司 大学 医院 学院 银行 中学 小学 协会 合作社 研究院 研究所 委员会 法院 检察院 基金会".split())
_SIDES = re.compile(r"以[东西南北]|[东西南北]侧")  # which side of a road or river: 以东 is not 以西
_EN_FUNCTION_WORDS = frozenset("the a an of to in on at for and is was were are has have will by with from that said".split())


@dataclass(frozen=True)
class Verdict:
    """The gate's judgement: ``faithful``, else the ``check`` that refused it and why."""

    faithful: bool
    check: str | None = None
    reason: str | None = None

    @classmethod
    def refuse(cls, check: str, detail: str) -> Verdict:
        return cls(False, check, f"{check}: {detail}")


PASS = Verdict(True)


@dataclass(frozen=True)
class _Article:
    """The article as the checks read it, read once per verdict."""

    source: str
    text: str  # folded: Simplified Chinese, or lower case
    keys: frozenset[str]  # its words' comparison forms
    names: frozenset[str]
    sentences: list[str]
    read: list[tuple[Token, ...]]  # each sentence's words
    quantities: list[q.Quantity]  # lenient, as an article's side is counted

    @classmethod
    def of(cls, source: str, language: str) -> _Article:
        parts = sentences(source, language)
        return cls(
            source,
            folded(source, language),
            frozenset(t.key for t in tokens(source, language)),
            article_names(source, language),
            parts,
            [tokens(part, language) for part in parts],
            q.quantities(source, lenient=True),
        )


def check_summary(summary: str, source: str, language: str) -> str | None:
    """Why ``summary`` cannot be trusted as a summary of ``source``; None when it passes."""
    return judge(summary, source, language).reason


def judge(summary: str, source: str, language: str) -> Verdict:
    """The gate's verdict on ``summary`` of ``source`` (both in ``language``)."""
    if not summary.strip():
        return Verdict.refuse("empty", "the model wrote nothing")
    problem = _language_problem(summary, language)
    if problem:
        return Verdict.refuse("language", problem)
    written = tokens(summary, language)
    if not any(t.content for t in written):
        return Verdict.refuse("unjudged", "no word the gate can compare with the article")
    if repeats_itself(summary, language):
        return Verdict.refuse("repetition", "a phrase comes back again and again")
    article = _Article.of(source, language)
    for check in (_quantities, _names, _placement, _novelty):
        verdict = check(summary, article, language, written)
        if not verdict.faithful:
            return verdict
    return PASS


def _language_problem(summary: str, language: str) -> str | None:
    letters = [c for c in summary if c.isalpha()]
    if is_chinese(language):
        return None if cjk_count(summary) else "the summary has no Chinese characters"
    other = sum(not ("a" <= c.lower() <= "z") for c in letters)
    if letters and other / len(letters) > 0.1:
        return "the summary is not written in English (other scripts)"
    words = re.findall(r"[a-z]+", summary.lower())
    if len(words) >= 8 and not _EN_FUNCTION_WORDS.intersection(words):
        return "the summary is not written in English"
    return None


def repeats_itself(summary: str, language: str) -> bool:
    """True when a phrase comes back again and again (a degenerate generation)."""
    units = list(re.sub(r"\s", "", summary)) if is_chinese(language) else summary.lower().split()
    size = 4 if is_chinese(language) else 3
    grams = [tuple(units[i : i + size]) for i in range(len(units) - size + 1)]
    if len(grams) < 4:
        return False
    return len(set(grams)) / len(grams) < 0.6


def _quantities(summary: str, article: _Article, language: str, _written: tuple[Token, ...]) -> Verdict:
    """Every number of the summary is one of the article's, by value, in the article's unit;
    every weekday it names, every date a Chinese summary writes in words (明年, 正月初八) and every
    side it names (以东, 西侧), is the article's."""
    known = article.quantities
    known_values = {value for quantity in known for value in quantity.values}
    date_values = {value for quantity in known if quantity.date for value in quantity.values}
    for quantity in q.quantities(summary):
        # a date or time is one of the article's dates or times (its 9 of 9时, not the 9 of 9个)
        if not q.matches(quantity, date_values if quantity.date and quantity.unit != "month" else known_values):
            return Verdict.refuse("date" if quantity.date else "number", f"{quantity.text} is not in the article")
        if quantity.unit and quantity.unit != "month":
            units = {k.unit for k in known if k.values & quantity.values}
            if units and quantity.unit not in units and None not in units:  # (none: matched approximately)
                return Verdict.refuse("unit", f"{quantity.text}: the article counts {_first(units)} there")
    if is_chinese(language):
        written = folded(summary, language)
        for check, found in (("date", q.relative_dates), ("place", _sides)):
            unknown = sorted(found(written) - found(article.text))
            if unknown:
                return Verdict.refuse(check, f"{unknown[0]} is not in the article")
    named_days = q.weekdays(article.source)
    unknown_day = next((written for day, written in q.weekdays(summary).items() if day not in named_days), None)
    if unknown_day:
        return Verdict.refuse("date", f"{unknown_day} is not in the article")
    return PASS


def _sides(text: str) -> set[str]:
    return set(_SIDES.findall(text))


def _first(units: set[str | None]) -> str:
    return sorted(u for u in units if u)[0] if any(units) else "something else"


def names(text: str, language: str) -> set[str]:
    """Names a summary should not invent: people, places and organisations of jieba's dictionary
    and after a title (主任鄧順友), Latin words (Chinese); words capitalized inside a sentence
    (English)."""
    written = tokens(text, language)
    found = {t.text for t in written if t.name}
    if is_chinese(language):
        found |= {m.group(1) for m in _TITLE_NAME.finditer(folded(text, language))}
    return found


def _names(summary: str, article: _Article, language: str, written: tuple[Token, ...]) -> Verdict:
    """Every name of the summary (capitalized or not, in English) is in the article."""
    text, keys = article.text, article.keys
    for token in written:
        if not token.name:
            continue
        if token.key in keys or folded(token.text, language) in text:
            continue
        if is_chinese(language) and _segmentation_artefact(token.text, text):
            continue
        return Verdict.refuse("place" if token.place else "name", f"{token.text!r} is not in the article")
    if not is_chinese(language):  # lower case hides names: a word neither the article nor the dictionary knows is one
        for token in written:
            if (
                token.content
                and token.key not in keys
                and token.text.isalpha()
                and len(token.text) > 2
                and token.text.lower() not in text
                and not _known_english(token.text.lower())
            ):
                return Verdict.refuse("name", f"{token.text!r} is not in the article")
    if is_chinese(language):
        for index, token in enumerate(written):  # an organisation: the word before 集团, 大学, 医院 is the article's
            if token.text in _ORGANISATIONS and index and written[index - 1].content:
                name = written[index - 1].text + token.text
                if name not in text:
                    return Verdict.refuse("name", f"{name!r} is not in the article")
        for match in _TITLE_NAME.finditer(folded(summary, language)):
            if match.group(1) not in text:
                return Verdict.refuse("name", f"{match.group(1)!r} is not in the article")
    return PASS


def _known_english(word: str) -> bool:
    import simplemma

    return simplemma.is_known(word, lang="en")


def _segmentation_artefact(word: str, article: str) -> bool:
    """Whether a Chinese "name" is a segmentation artefact around the article's words (游双桂
    of 游双桂堂, where the article has 双桂堂): half or more of its character pairs are there."""
    pairs = [word[i : i + 2] for i in range(len(word) - 1)]
    return len(pairs) > 1 and sum(pair in article for pair in pairs) * 2 >= len(pairs)


def _placement(summary: str, article: _Article, language: str, written: tuple[Token, ...]) -> Verdict:
    """Each clause of the summary, aligned with the two sentences of the article that share
    most of its words: a name or number that is not there (nor in the sentences around) while
    those sentences have one the summary lacks is a swap; a negation the clause and those
    sentences do not share is a flipped claim."""
    parts, read, named = article.sentences, article.read, article.names
    if not parts:
        return PASS
    summary_names = {t.key for t in written if _is_name(t, named)}
    summary_values = {v for quantity in q.quantities(summary) for v in quantity.values}
    # the opening sentence's names, and those of three sentences or more, hold for the whole article
    mentions = Counter(key for sentence in read for key in {t.key for t in sentence if _is_name(t, named)})
    topic = {t.key for t in read[0] if _is_name(t, named)} | {key for key, count in mentions.items() if count >= 3}
    for clause in _aligned_clauses(summary, language, named):
        words = tokens(clause, language)
        content = {t.key for t in words if t.content and not _is_name(t, named)}
        scores = [len(content & {t.key for t in read[i] + (read[i + 1] if i + 1 < len(read) else ())}) for i in range(len(read))]
        best = max(range(len(read)), key=lambda i: scores[i])
        if scores[best] < MIN_ALIGNMENT:
            continue
        aligned = range(best, min(len(read), best + 2))
        core = [t for i in aligned for t in read[i]]
        # where a name must be: the aligned sentences (Chinese), or with those around them (English,
        # whose summaries refer back further); calibrated on the corpus
        window = aligned if is_chinese(language) else range(max(0, best - 1), min(len(read), best + 3))
        context_keys = {t.key for i in window for t in read[i]}
        context_text = folded("".join(parts[i] for i in window), language)
        rivals = {t.key for t in core if t.key in named} - summary_names - topic
        # a sentence nearly as close that has the name: the clause joins two facts of the article
        fused = {
            t.key
            for i, sentence in enumerate(read)
            if scores[i] * 2 >= scores[best] and scores[i] >= MIN_ALIGNMENT
            for t in sentence
        }
        for token in words:
            if (
                _is_name(token, named)
                and token.key not in context_keys
                and token.key not in topic
                and token.key not in fused
                and folded(token.text, language) not in context_text
                and rivals
            ):
                return Verdict.refuse(
                    "misplaced name",
                    f"{token.text!r} is not who or where the article says (it names {_example(rivals, core)} there)",
                )
        context_values = {v for quantity in q.quantities(context_text, lenient=True) for v in quantity.values}
        core_quantities = q.quantities("".join(parts[i] for i in aligned), lenient=True)
        for quantity in q.quantities(clause):
            if quantity.unit == "month" or q.matches(quantity, context_values):
                continue
            if not (quantity.unit or quantity.date) or quantity.unit in q.CURRENCIES:
                continue  # a bare count (too often an ordinal or part of a name) or money: not placed
            rival = next(
                (
                    k
                    for k in core_quantities
                    if k.unit == quantity.unit and k.date == quantity.date and not k.values & summary_values
                ),
                None,
            )
            if rival:
                return Verdict.refuse(
                    "misplaced number", f"{quantity.text} belongs to another part of the article (it says {rival.text} there)"
                )
        verdict = _negation(words, [read[i] for i in aligned], content)
        if not verdict.faithful:
            return verdict
    return PASS


def _aligned_clauses(summary: str, language: str, named: frozenset[str]) -> list[str]:
    """The summary's clauses, a short one (a speaker: "王強介紹，") joined to the next."""
    joined: list[str] = []
    pending = ""
    for clause in clauses(summary):
        text = f"{pending} {clause}" if pending and not is_chinese(language) else pending + clause
        content = [t for t in tokens(text, language) if t.content and not _is_name(t, named)]
        if len(content) < MIN_ALIGNMENT:
            pending = text
            continue
        joined.append(text)
        pending = ""
    return joined + ([pending] if pending else [])


def _is_name(token: Token, article_names: frozenset[str]) -> bool:
    return token.name or token.key in article_names


def _example(keys: set[str], context: list[Token]) -> str:
    return next((repr(t.text) for t in context if t.key in keys), "someone else")


_STRONG_NEGATIONS = frozenset("not n't never no 不 未 没 没有 未能 尚未 并未 不会 不再 无法 不能 从未".split())


def _negation(clause: tuple[Token, ...], core: list[tuple[Token, ...]], content: set[str]) -> Verdict:
    """A clause that negates where the article's sentences do not, or drops their negation of
    a word the clause states."""
    negated = [t for t in clause if t.negation]
    core_negations = [t for sentence in core for t in sentence if t.negation]
    if negated and not core_negations:
        return Verdict.refuse("negation", f"{negated[0].text!r}: the article does not say so there")
    if not negated:
        for sentence in core:
            for index, token in enumerate(sentence):
                if token.key not in _STRONG_NEGATIONS and token.text not in _STRONG_NEGATIONS:
                    continue
                following = [t for t in sentence[index + 1 : index + 4] if t.content]
                if following and following[0].key in content:
                    return Verdict.refuse("negation", f"the article says {token.text!r} before {following[0].text!r}")
    return PASS


def _novelty(_summary: str, article: _Article, language: str, written: tuple[Token, ...]) -> Verdict:
    """Too many of the summary's content words missing from the article (an invented
    circumstance, a claim from elsewhere, or another story)."""
    content = [t for t in written if t.content]
    prefixes = {key[:5] for key in article.keys if len(key) >= 5}
    novel = [t for t in content if not _known(t, article.keys, prefixes, article.text, language)]
    share = len(novel) / len(content)
    limit = MAX_NOVELTY["zh" if is_chinese(language) else "en"]
    if share > limit:
        shown = ", ".join(dict.fromkeys(t.text for t in novel[:4]))
        return Verdict.refuse("novel wording", f"{share:.0%} of its words are not in the article ({shown})")
    return PASS


def _known(token: Token, keys: frozenset[str], prefixes: set[str], article: str, language: str) -> bool:
    if token.key in keys:
        return True
    if is_chinese(language):  # segmentation differs: a word the article has inside another counts
        return token.text in article
    return len(token.key) >= 5 and token.key[:5] in prefixes
