"""The faithfulness gate: whether a generated summary may be shown as a summary of its article.

A summary passes when it is in the article's language, does not loop, states only numbers,
dates, units and names the article has, puts each name, number and negation where the article
does (a clause of the summary is aligned with the sentences of the article that share most of
its words: a name or number from another part of the article, or a "not" the article lacks
there, is refused), gives each act, quote, title, figure, street and venue to whom or what the
article gives it (who chaired, who said it, 隧道14座 or 桥梁14座, the library on which street), and
does not bring too many words of its own (novel content words, with a threshold per language
calibrated on ``benchmarks/faithfulness/``). A summary with nothing the
gate can compare (no word of the language) is not judged, and so refused.

Every refusal has a ``check`` (its class: number, date, unit, name, place, misplaced name,
misplaced number, negation, novel wording, language, unjudged, repetition, empty) and a reason
that names what was wrong.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

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
_ORGANISATION_ENDS = (*_ORGANISATIONS, "局", "厅", "办公室")
_COUNTED = re.compile(r"([\u4e00-\u9fff]{2})(\d+(?:\.\d+)?)(?=[座个台辆条处名家户项所])")  # 桥梁14座: what is counted
_VENUE = re.compile(
    r"(?:在|到|赴)([\u4e00-\u9fff]{2,8}?)(召开|举行|举办|开幕|开工|启动|巡查|调研|检查|视察)"
)  # where an event is held, a visit made
_SIDES = re.compile(r"以[东西南北]|[东西南北]侧")  # which side of a road or river: 以东 is not 以西
_STATIONS = re.compile(r"[\u4e00-\u9fff]{2}[东西南北](?=站|、|方向)")  # 重庆北 (station) is not 重庆西
_COUNTS = {
    "population": "person",
    "residents": "person",
    "people": "person",
    "inhabitants": "person",
    "households": "household",
    "homes": "household",
    "人口": "person",
    "居民": "person",
    "户": "household",
}
_COUNT_WORDS = re.compile("|".join(_COUNTS))
_WARNING_LEVELS = re.compile(r"[蓝黄橙红]色预警|\b(?:warning|watch|advisory)\b")  # 橙色 is not 红色; a watch is not a warning
_PAY_PERIODS = re.compile(r"[年月日周时]薪")  # 月薪 is not 年薪
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
    for check in (_quantities, _names, _placement, _attribution, _figures, _novelty):
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
            units = {k.unit or _counted_around(k.text, article) for k in known if k.values & quantity.values}
            if units and quantity.unit not in units and None not in units:  # (none: matched approximately)
                return Verdict.refuse("unit", f"{quantity.text}: the article counts {_first(units)} there")
    if is_chinese(language):
        written = folded(summary, language)
        for check, found in (
            ("date", q.relative_dates),
            ("place", _sides),
            ("place", _stations),
            ("unit", _pay_periods),
            ("name", _warning_levels),
        ):
            unknown = sorted(found(written) - found(article.text))
            if unknown:
                return Verdict.refuse(check, f"{unknown[0]} is not in the article")
        # 隧道14座 where the article has 桥梁14座、隧道6座
        swapped = _given_elsewhere(_zh_counted(written), _zh_counted(article.text))
        if swapped:
            (thing, _, text), theirs = swapped
            return Verdict.refuse("number", f"{text}: the article counts {sorted(theirs)[0]} {thing}")
    else:  # an excessive heat warning is not an advisory
        levels, theirs = _warning_levels(summary.lower()), _warning_levels(article.text)
        if theirs and levels - theirs:
            return Verdict.refuse("name", f"{sorted(levels - theirs)[0]}: the article has a {sorted(theirs)[0]}")
        # 14 victims where the article has 14 break-ins and nine victims; the rate at 38 per cent
        swapped = _given_elsewhere(
            _en_counted(summary) + _en_shares(summary), _en_counted(article.source) + _en_shares(article.source)
        )
        if swapped:
            (what, _, text), _ = swapped
            return Verdict.refuse("number", f"{text!r}: the article gives {what!r} another figure")
    named_days = q.weekdays(article.source)
    unknown_day = next((written for day, written in q.weekdays(summary).items() if day not in named_days), None)
    if unknown_day:
        return Verdict.refuse("date", f"{unknown_day} is not in the article")
    return PASS


def _sides(text: str) -> set[str]:
    return set(_SIDES.findall(text))


def _counted_in(sentence: str) -> set[str]:
    return {_COUNTS[word] for word in _COUNT_WORDS.findall(sentence.lower())}


def _counted_around(number: str, article: _Article) -> str | None:
    """What a bare number of the article counts, when its sentence says people or households
    and not both (the population grew to 48,300): None when it cannot tell."""
    said = [_counted_in(sentence) for sentence in article.sentences if number in sentence]
    return next(iter(said[0])) if len(said) == 1 and len(said[0]) == 1 else None


def _warning_levels(text: str) -> set[str]:
    """Which warnings a text names: 暴雨橙色预警's colour, or a warning, watch or advisory."""
    return set(_WARNING_LEVELS.findall(text))


def _stations(text: str) -> set[str]:
    return set(_STATIONS.findall(text))


def _pay_periods(text: str) -> set[str]:
    return set(_PAY_PERIODS.findall(text))


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
    if not is_chinese(language):  # based in Greenfield, where the article has it based in Columbus
        bases = set(_BASED_IN.findall(article.source))
        for base in _BASED_IN.findall(summary):
            if bases and base not in bases:
                return Verdict.refuse("place", f"based in {base}: the article has it based in {sorted(bases)[0]}")
        # the library on 5th Street, where the article has the senior center there
        streets = [(what.lower(), street) for what, street in _ON_STREET.findall(article.source)]
        for what, street in _ON_STREET.findall(summary):
            theirs = {s for w, s in streets if w == what.lower()}
            if theirs and street not in theirs and street in article.source:
                return Verdict.refuse("place", f"{what} on {street}: the article has it on {sorted(theirs)[0]}")
    if is_chinese(language):
        for index, token in enumerate(written):  # an organisation (水利局, 医科大学; 梁平 + 医院) is the article's
            if token.text in _ORGANISATIONS and index and written[index - 1].content:
                name = written[index - 1].text + token.text
            elif len(token.text) >= 3 and token.text.endswith(_ORGANISATION_ENDS):
                name = token.text
            else:
                continue
            if name not in text:
                return Verdict.refuse("name", f"{name!r} is not in the article")
        for match in _TITLE_NAME.finditer(folded(summary, language)):
            if match.group(1) not in text:
                return Verdict.refuse("name", f"{match.group(1)!r} is not in the article")
        venues = _VENUE.findall(text)
        for venue, held in _VENUE.findall(folded(summary, language)):
            # 现场会在竹山镇召开 where the article holds it in 明达镇
            elsewhere = {v for v, h in venues if h == held and v != venue}
            if (venue, held) not in venues and elsewhere:
                return Verdict.refuse("place", f"{venue}{held}: the article has it {held} in {sorted(elsewhere)[0]!r}")
        for title, name in re.findall(
            f"({_ZH_TITLED})([\u4e00-\u9fff]{{2,3}}?)(?=[：:，,说表介称指认强主宣代出])", folded(summary, language)
        ):
            # 局长谭立新 where the article has 首席预报员谭立新 and 局长罗晓燕
            others = set(re.findall(f"{title}([\u4e00-\u9fff]{{2,3}}?)(?=[：:，,说表介称指认强主宣代出在])", text)) - {name}
            if name in text and title + name not in text and others:
                return Verdict.refuse("misplaced name", f"{title}{name}: the article's {title} is {sorted(others)[0]!r}")
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
        verdict = _addresses(clause, " ".join(parts[i] for i in aligned), " ".join(parts[i] for i in window), summary)
        if not verdict.faithful:
            return verdict
        context_values = {v for quantity in q.quantities(context_text, lenient=True) for v in quantity.values}
        core_quantities = q.quantities("".join(parts[i] for i in aligned), lenient=True)
        for quantity in q.quantities(clause):
            if q.matches(quantity, context_values):
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


_ZH_SPEECH = frozenset("表示 介绍 说 称 指出 强调 透露 认为 坦言 告诉 提到 提出 要求 呼吁 提醒 警告".split())
_EN_SPEECH = frozenset(
    "said says say told tell tells added adds explained noted urged urges warned warns called calls asked asks "
    "claimed claims insisted insists argued argues announced announces stressed stresses".split()
)


def _attribution(summary: str, article: _Article, language: str, written: tuple[Token, ...]) -> Verdict:
    """Who did what: a name the summary makes the subject of an act (宣布, 主持, chaired, warned,
    said) is one the article gives that act; when the article's clauses with the act name someone
    else and never this name, the act is someone else's. Speech counts as one act (说 = 表示)."""
    named = article.names
    acts = _acts(summary, written, named, language, article.text)
    if not acts:
        return PASS
    in_summary = {t.key for t in written if _is_name(t, named)}
    said = {t.key for t in written if t.content and not _is_name(t, named)}
    parts = [clause for sentence in article.sentences for clause in clauses(sentence)]
    for name, act in acts:
        if _is_speech(act, language):
            # what was said: the article's sentence that shares most of the summary's words
            scores = [len(said & {t.key for t in sentence}) for sentence in article.read]
            best = max(range(len(scores)), key=scores.__getitem__, default=None)
            if best is None or scores[best] <= MIN_ALIGNMENT:
                continue
            # a sentence without a speaker, or with "he said", goes on with the one before it
            sentence = article.sentences[best]
            places = [sentence]
            if best and (not _does(sentence, act, language) or _PRONOUN_SPEAKER.search(sentence)):
                places.insert(0, article.sentences[best - 1])
        else:
            # what was done: the act's clauses (Chinese) or sentences (English, whose appositions
            # put the subject a comma away)
            places = [p for p in (parts if is_chinese(language) else article.sentences) if _does(p, act, language)]
        if not places or any(folded(name.text, language) in folded(place, language) for place in places):
            continue
        others = [
            actor
            for place in places
            for actor in _actors(place, act, named, language, article.text)
            if actor not in in_summary and actor not in folded(summary, language)
        ]
        if not others and len(places) == 2 and _PRONOUN_SPEAKER.search(places[1]):
            others = [s for s in _subjects(places[0], named, language, article.text) if s not in in_summary]
        if others:
            return Verdict.refuse(
                "misplaced name", f"{name.text!r} is not who the article says {act.text!r} (it names {others[0]!r})"
            )
    return PASS


_EN_RELATIVE = re.compile(r"\b([A-Z][a-z]+), (?:who|whose) [^,]+, ([a-z]+)\b")
_ZH_VISIT = "(?:到|赴|前往)[^，。；、]{2,12}?"  # 到梁平中学考点(巡查): where an act was done
_ZH_OFFICIAL_ACTS = "主持 宣布 代表 出席 调研 巡查 检查 部署 致辞 讲话 签约 会见 督导 视察".split()


_PRONOUN_SPEAKER = re.compile(r"\b(?:he|she|they) (?:said|says|added|told)\b|\bsaid (?:he|she)\b|[他她]们?(?:说|表示|介绍)", re.I)


def _subjects(sentence: str, named: frozenset[str], language: str, article: str) -> list[str]:
    """The people a sentence makes do something: a name directly followed by an act."""
    read = tokens(sentence, language)
    return [
        token.key
        for token, following in pairwise(read)
        if _is_person(token, named, language, article) and not _is_name(following, named) and _is_act(following, language)
    ]


def _figures(summary: str, article: _Article, language: str, written: tuple[Token, ...]) -> Verdict:
    """English: a figure with its unit (120 people, 31 per cent) belongs to the place or person
    its sentence is about: a summary sentence about one (its subject: the name that opens it)
    with a figure that the article's sentences give to another is refused (Sutton Fen losing 120
    people where the article's 120 people are Cragside's)."""
    if is_chinese(language):
        return PASS
    named = article.names
    figured: list[tuple[tuple[Token, ...], list[q.Quantity]]] | None = None  # the article's sentences, read once
    for sentence in sentences(summary, language):
        subject = _subject_name(tokens(sentence, language), named)
        if not subject:
            continue
        for figure in q.quantities(sentence):
            if figure.date or not figure.unit or figure.unit in q.CURRENCIES or not any(c.isdigit() for c in figure.text):
                continue
            if figured is None:
                figured = [
                    (read, q.quantities(text, lenient=True))
                    for text, read in zip(article.sentences, article.read, strict=True)
                    if not any(_is_speech(t, language) for t in read)  # a speaker opens it, not what it is about
                ]
            holders = [
                _subject_name(read, named)
                for read, found in figured
                if any(k.unit == figure.unit and k.values & figure.values for k in found)
            ]
            if holders and all(holder and not holder & subject for holder in holders):
                return Verdict.refuse(
                    "misplaced name", f"{figure.text}: the article gives it to {' '.join(sorted(holders[0]))!r}"
                )
    return PASS


def _subject_name(read: tuple[Token, ...], named: frozenset[str]) -> set[str]:
    """The name a sentence opens with (its first four words: "The village of Sutton Fen"), as
    the keys of its words; empty when it opens otherwise."""
    name: set[str] = set()
    for index, token in enumerate(read[:8]):
        if _is_name(token, named):
            name.add(token.key)
        elif name or index >= 4:
            break
    return name


def _acts(
    summary: str, written: tuple[Token, ...], named: frozenset[str], language: str, article: str
) -> list[tuple[Token, Token]]:
    """The summary's (name, act) pairs: a name (its last word) and the word that follows it, or
    in English the word after a relative clause ("Sadiq, who founded the group, warned"); in
    Chinese also a name after a title and before an official act or speech (副区长孙立新主持)."""
    pairs = []
    for index, token in enumerate(written[:-1]):
        following = written[index + 1]
        if not _is_person(token, named, language, article) or _is_name(following, named):
            continue
        if _is_act(following, language):
            pairs.append((token, following))
    if not is_chinese(language):
        for match in _EN_RELATIVE.finditer(summary):
            name, act = tokens(match.group(1), language)[0], tokens(match.group(2), language)[0]
            if _is_person(name, named, language, article) and _is_act(act, language):
                pairs.append((name, act))
    else:
        acts = "|".join(sorted({*_ZH_SPEECH, *_ZH_OFFICIAL_ACTS}, key=len, reverse=True))
        simplified = "".join(t.text for t in written)
        for match in re.finditer(f"{_ZH_TITLED}([\u4e00-\u9fff]{{2,3}}?)(?:{_ZH_VISIT})?({acts})", simplified):
            titled = match.group(1)
            pairs.append((Token(titled, titled, True, True, False), tokens(match.group(2), language)[0]))
        # the people the article gives a title (主任伍建平介绍), wherever the summary names them
        people = set(re.findall(f"{_ZH_TITLED}([\u4e00-\u9fff]{{2,3}}?)(?=[，,：:]|{acts}|到|赴|前往)", article))
        for person in people:
            for match in re.finditer(f"{re.escape(person)}(?:{_ZH_VISIT})?({acts})", simplified):
                pairs.append((Token(person, person, True, True, False), tokens(match.group(1), language)[0]))
    return pairs


_EN_IRREGULAR_PAST = frozenset(
    "took gave made led won lost met went came saw told said found left put set ran began broke brought built "
    "bought caught chose drew drove fell felt fought held hit kept knew paid rose sent sold spoke stood struck "
    "swore taught thought threw wrote".split()
)
_ZH_TITLED = "(?:[\u4e00-\u9fff]长|书记|主任|经理|负责人|主席|委员|记者|教授|医生|队员)"


def _does(text: str, act: Token, language: str) -> bool:
    return any(_same_act(t, act, language) for t in tokens(text, language))


def _actors(place: str, act: Token, named: frozenset[str], language: str, article: str) -> list[str]:
    """Who does ``act`` in a clause or sentence of the article: the name just before it, for
    Chinese also the name after a title (站长程海波介绍: jieba does not know every name), for
    English speech also just after it ("said Mayor Okafor")."""
    read = tokens(place, language)
    found = []
    for index, token in enumerate(read):
        if not _same_act(token, act, language):
            continue
        around = read[max(0, index - 1) : index]
        if _is_speech(act, language) and not is_chinese(language):
            around += read[index + 1 : index + 4]
        found += [t.key for t in around if _is_person(t, named, language, article)]
    if not is_chinese(language):  # "Lucy Tranter, who founded the group in 2021, said"
        for match in _EN_RELATIVE.finditer(place):
            subject, verb = tokens(match.group(1), language)[0], tokens(match.group(2), language)[0]
            if _same_act(verb, act, language) and _is_person(subject, named, language, article):
                found.append(subject.key)
    if is_chinese(language):
        verbs = _ZH_SPEECH if _is_speech(act, language) else {act.text}
        acted = "|".join(re.escape(verb) for verb in verbs)
        found += re.findall(f"{_ZH_TITLED}([\u4e00-\u9fff]{{2,3}}?)(?:{_ZH_VISIT})?(?:{acted})", folded(place, language))
    return found


def _is_person(token: Token, named: frozenset[str], language: str, article: str) -> bool:
    """A name that may do something: not a place (a Chinese name the article writes before 区,
    县, 镇 ... is a place's)."""
    if not _is_name(token, named) or token.place:
        return False
    if is_chinese(language):
        return len(token.text) <= 4 and not re.search(re.escape(token.text) + "(?:区|县|市|镇|乡|村|街道|湖|河|山)", article)
    return True


def _is_act(token: Token, language: str) -> bool:
    """A word that can be what someone did: Chinese content words; English verbs by form."""
    if _is_speech(token, language):
        return True
    if not token.content:
        return False
    if is_chinese(language):
        return True
    word = token.text.lower()
    return word in _EN_IRREGULAR_PAST or word.endswith("ed") or (word.endswith("s") and not word.endswith("ss"))


def _is_speech(token: Token, language: str) -> bool:
    return token.text.lower() in (_ZH_SPEECH if is_chinese(language) else _EN_SPEECH)


def _same_act(token: Token, act: Token, language: str) -> bool:
    if _is_speech(act, language):
        return _is_speech(token, language)
    return token.key == act.key


_ADDRESS = re.compile(
    r"\b(?:(?:[A-Z][a-z]+|\d+(?:st|nd|rd|th))\s)+(?:Street|Lane|Road|Avenue|Close|Drive|Way|Square|Crescent|Terrace|Boulevard)\b"
)


_EN_COUNTED = re.compile(
    r"(?<!\w)(\d{1,3}(?:,\d{3})+|\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty)"
    r" (?:[a-z]+[ -]){0,2}?([a-z]+(?:-[a-z]+)*)s\b"
)
_MONTH_BEFORE = re.compile(r"(?:January|February|March|April|May|June|July|August|September|October|November|December) $")


Counted = tuple[str, frozenset[str], str]  # what is counted, the values, the words that say so


def _given_elsewhere(said: list[Counted], told: list[Counted]) -> tuple[Counted, set[str]] | None:
    """The first figure of ``said`` whose thing the article (``told``) counts otherwise while it
    gives the figure to another thing (a swap), with the article's figures for that thing."""
    for figure in said:
        what, values, _ = figure
        theirs = {v for w, vs, _ in told if w == what for v in vs}
        if theirs and not values & theirs and any(vs & values and w != what for w, vs, _ in told):
            return figure, theirs
    return None


def _zh_counted(text: str) -> list[Counted]:
    """What Chinese numbers count: the two characters before a number and its measure word (桥梁14座)."""
    return [(thing, frozenset({number}), thing + number) for thing, number in _COUNTED.findall(text)]


def _en_counted(text: str) -> list[Counted]:
    """What English numbers count: the plural noun at most two words after them (14 storage-unit
    break-ins: "break-in"; not a date's day), with the number's values and its text."""
    return [
        (match.group(2), frozenset(q.numbers(match.group(1), lenient=True)), match.group(0))
        for match in _EN_COUNTED.finditer(text)
        if not _MONTH_BEFORE.search(text, 0, match.start())
    ]


_BASED_IN = re.compile(r"\b(?:based|headquartered) in ([A-Z][a-z]+(?: [A-Z][a-z]+)*)")
_EN_SHARE = re.compile(
    r"(?:\b([a-z]+) (?:is |was |are |were )?(?:currently |now )?(?:stands at |stood at |at |of |reached |rose to |fell to )?)?"
    r"\b(\d+(?:\.\d+)?)(?: per ?cent\b|%)(?: of (?:the |all )?([a-z]+))?"
)


def _en_shares(text: str) -> list[Counted]:
    """What English percentages are of: the noun after "of" (38 per cent of the contents), else
    the word before them (the recycling rate is 41 per cent)."""
    return [
        (of or subject, frozenset(q.numbers(number)), f"{number} per cent")
        for subject, number, of in _EN_SHARE.findall(text)
        if of or subject
    ]


_ON_STREET = re.compile(
    r"\b([A-Za-z]+) (?:on|at) ((?:[A-Z][a-z]+|\d+(?:st|nd|rd|th)) (?:[A-Z][a-z]+ )*(?:Street|Avenue|Road|Lane|Close|Drive|Way))\b"
)


def _addresses(clause: str, aligned: str, window: str, summary: str) -> Verdict:
    """English streets and roads: one the summary puts where the article's aligned sentences
    name another street, and that is not in the sentences around, is misplaced (Ferry Lane for
    River Street)."""
    said = set(_ADDRESS.findall(clause)) - set(_ADDRESS.findall(window))
    rivals = [street for street in _ADDRESS.findall(aligned) if street not in summary]
    if said and rivals:
        return Verdict.refuse(
            "misplaced name", f"{sorted(said)[0]!r} is not where the article says (it names {rivals[0]!r} there)"
        )
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
