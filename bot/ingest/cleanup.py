"""Boilerplate removal for news portals: by structure first, word lists only where structure can't tell.

On the parsed page, before the extractor sees it (:func:`prune_page`):

- layout tables become plain blocks; data tables (header cells, a caption, or a real grid)
  stay tables, so the extractor keeps them and they come out one row a line;
- text laid out with ``<br>`` becomes one paragraph per line;
- blocks of links go wherever they are and whatever their heading (link density, with
  ``onclick`` items counted as links; a link inside running text is part of its sentence), as
  do lists of headlines (every item ending in a timestamp, or short and unfinished in Chinese:
  English ones are key points) that no "…：" line introduces, small blocks around a form
  (newsletter sign-ups, search boxes) or a copyright line without a sentence (page footers),
  pull quotes (a ``<blockquote>`` or ``<aside>`` repeating words of one paragraph), and the
  heading or wrapper left behind;
- on a forum thread (numbered post ids, each post stamped with a time) only the first post stays.

On the extracted lines (:func:`clean_segments`, :func:`clean_lines`): meta lines (發布時間, 來源,
瀏覽次數, 字號 大中小, 作者, 編輯…, also glued together on one line), headlines glued to a
timestamp, bare timestamps and date widgets, toolbars ("分享 | 點贊 | 在看"), short lines in
parentheses (captions, credits), contact lines, and what only words give away: credits,
copyright and ICP lines, share/print links, wire sign-offs ("Reporting by …; Editing by …"),
press-release furniture, bare English dates, related-news headings and the list under them.
Table rows are never touched by the line rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree
from lxml import html as lxml_html

HtmlElement = lxml_html.HtmlElement

# --- line shapes -------------------------------------------------------------------------

_FINISHED = re.compile(r"[。！？!?.…][」』”\"'）)]*$")
_SENTENCE_END = re.compile(r"[。！？!?]")
_PROSE = re.compile(r"[。！？]|[.!?]\s+[A-Z]")  # a Chinese sentence, or an English one followed by another
_NON_LETTER = re.compile(r"[\W\d_]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W\d_]+")
_DATE = r"(?:\d{4}[-/.年]\s*)?\d{1,2}[-/.月]\s*\d{1,2}日?"
_TIME = r"\d{1,2}[:：]\d{2}(?:[:：]\d{2})?"
_STAMP_AT_END = re.compile(rf"[\[(（]?\s*(?P<date>{_DATE})(?P<time>\s*{_TIME})?\s*[\])）]?\s*$")
_FULL_STAMP = re.compile(rf"\d{{4}}[-/.年]\d{{1,2}}[-/.月]\d{{1,2}}日?\s*{_TIME}")
_RANK = re.compile(r"^\s*(?:\d{1,2}[.、]?\s*)?")
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_WEEKDAY = r"(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?"
_META_LABEL = (
    r"發布時間|发布时间|發佈時間|發布日期|发布日期|發佈日期|更新時間|更新时间|發表時間|发表时间|發表於|发表于|"
    r"來源|来源|信息來源|信息来源|稿件來源|稿件来源|文章來源|文章来源|發布機構|发布机构|發布者|发布者|"
    r"瀏覽次數|浏览次数|瀏覽量|浏览量|閱讀量|阅读量|閱讀數|阅读数|瀏覽|浏览|閱讀|阅读|點擊數|点击数|點擊量|点击量|"
    r"點擊|点击|訪問量|访问量|查看|回復|回复|字號|字号|字體|字体|作者|編輯|编辑|責任編輯|责任编辑|責編|责编|"
    r"審核|审核|終審|终审|校對|校对|記者|记者|通訊員|通讯员|攝影|摄影|供稿"
)
_ENGLISH_META = (
    r"(?:published|updated|last updated|posted|filed under|written by)"
    r"(?:\s*:|\s+(?:on\s+|at\s+)?(?=\d|by\b|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)))"
)
_META_LINE = re.compile(
    rf"^[【\[(（]?\s*(?:{_DATE}(?:\s*{_TIME})?\s*)?(?:(?:{_META_LABEL})(?:\s*[:：]|\s+(?=\S)|(?=\d))|{_ENGLISH_META})",
    re.I,
)
_DATE_WIDGET = re.compile(rf"^(?:今天是|今日)?\s*{_DATE}\s*(?:星期|週|周|禮拜|礼拜)[一二三四五六日天]")
_TOOLBAR_SPLIT = re.compile(r"\s*[|｜丨]\s*")
_PARENTHESIZED = re.compile(r"^[(（][^()（）]{1,40}[)）]$")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")

# --- word lists, for what structure can't tell ---------------------------------------------

_RELATED_HEADING = re.compile(
    r"^[【\[〔]?\s*(相關新聞|相关新闻|相關閱讀|相关阅读|相關文章|相关文章|相關報道|相关报道|延伸閱讀|延伸阅读|"
    r"推薦閱讀|推荐阅读|熱點新聞|热点新闻|熱門文章|热门文章|猜你喜歡|猜你喜欢|更多新聞|更多新闻|"
    r"related (?:news|articles|stories|coverage)|read more|more stories|you may also like|more from [\w ]+)"
    r"\s*[】\]〕]?\s*[:：]?$",
    re.I,
)
_DROP_LINE = re.compile(
    "|".join(
        [
            r"^[(（\[【]?\s*(相關|相关)?(資料|资料)?(圖|图)(片)?\s*[)）\]】]?$",
            r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(\s+\d{1,2}:\d{2}(:\d{2})?)?$",
            r"^\d{4}年\d{1,2}月\d{1,2}日(\s*\d{1,2}[:：]\d{2}([:：]\d{2})?)?$",
            r"^\d{1,2}:\d{2}(:\d{2})?$",
            r"^(關鍵詞|关键词|關鍵字|关键字|標籤|标签|tags?|keywords?)\s*[:：]",
            r"^(上一篇|下一篇|上一條|下一条|上一頁|下一页|下一頁|上一页|previous( article)?|next( article)?)\s*[:：]",
            r"^\d+\s*(次瀏覽|次浏览|人閱讀|人阅读|views?|reads?|comments?)$",
            r"^(additional )?(reporting|writing|compiled) by [^.!?]*\b(editing|edited) by [^.!?]*$",  # a wire story's sign-off
            r"^(for immediate release|(media|press) contacts?\s*[:：].*)$",
            rf"^({_WEEKDAY},?\s+)?(\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}|{_MONTH}\s+\d{{1,2}},?\s+\d{{4}})$",  # a bare English date
            r"^[.。…·•\-—_=*~#\s]+$",
            r"^(打印|列印|關閉|关闭|返回頂部|返回顶部|首頁|首页|返回首頁|返回首页|print|close|back to top|home|advertisement|"
            r"【?字[體体号號][:：]?.*】?)$",
        ]
    ),
    re.I,
)
_COPYRIGHT = re.compile(r"版權所有|版权所有|copyright|©|icp[備备]|公網安備|公网安备|未經授權|未经授权|all rights reserved", re.I)
_SHORT_DROP = re.compile(
    "|".join(
        [  # only on short lines: the same words inside a paragraph are news
            _COPYRIGHT.pattern,
            r"^(分享到|分享|share( this)?( on| page)?)\s*[:：]?",
            r"^[(（]?\s*(文|圖|图|攝影|摄影|記者|记者|責編|责编|責任編輯|责任编辑|編輯|编辑|審核|审核|校對|校对|"
            r"來源|来源|作者|通訊員|通讯员|實習生|实习生|監製|监制|統籌|统筹|終審|终审)\s*[:：/|丨｜\s]",
            r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(\s*\d{1,2}:\d{2}(:\d{2})?)?[\s\u3000]+[^，,。！？!?]*$",
            r"^[(（]?\s*(by|reporter|editor|edited by|photos? by|source)\s*[:：]?\s+[^.!?]*$",
            r"關注我們|关注我们|二維碼|二维码|掃一掃|扫一扫|點擊藍字|点击蓝字|閱讀原文|阅读原文|sign up|subscribe|newsletter",
        ]
    ),
    re.I,
)
_SHORT_LINE = 60
_TITLE_CJK, _TITLE_LATIN = 45, 90  # the longest headline, in characters


@dataclass
class Segment:
    """A run of extracted lines: ``text`` (paragraphs, headings, list items) or ``table`` rows."""

    kind: str
    lines: list[str] = field(default_factory=list)


def letters(text: str | None) -> int:
    """How many letters (CJK characters included) ``text`` holds: digits and punctuation don't count."""
    return len(_NON_LETTER.sub("", text)) if text else 0


def ends_sentence(line: str) -> bool:
    """Whether ``line`` ends like a sentence (。！？.!?…, maybe inside closing quotes)."""
    return bool(_FINISHED.search(line.strip()))


def is_title_shaped(line: str) -> bool:
    """Short, with letters, and not a finished sentence: a headline, a heading, a menu entry."""
    stripped = line.strip()
    limit = _TITLE_LATIN if stripped.isascii() else _TITLE_CJK
    return letters(stripped) > 0 and len(stripped) <= limit and not ends_sentence(stripped)


def is_meta_line(line: str) -> bool:
    """Publication furniture: "發布時間：… 來源：… 瀏覽次數：… 字號：大 中 小", "Posted March 2023"."""
    stripped = line.strip()
    return len(stripped) <= 150 and not _SENTENCE_END.search(stripped) and bool(_META_LINE.match(stripped))


def _glued_stamp(line: str) -> str | None:
    """For "…專項檢查2023-03-03 10:06:37" (a headline glued to its time): "full" or "date"; else None."""
    match = _STAMP_AT_END.search(line)
    if not match or match.start() == 0:
        return None
    headline = _RANK.sub("", line[: match.start()]).rstrip()
    if headline.endswith((":", "：")):
        return None  # "報名截止：2023年3月3日" is a fact of the article, not a headline
    if not letters(headline) or len(headline) > 60 or _SENTENCE_END.search(headline):
        return None
    return "full" if match.group("time") and _FULL_STAMP.search(line) else "date"


def _is_toolbar(line: str) -> bool:
    parts = [p for p in _TOOLBAR_SPLIT.split(line.strip()) if p]
    return len(parts) >= 3 and all(len(p) <= 12 and letters(p) for p in parts)


def is_boilerplate_line(line: str) -> bool:
    """True for page furniture that never belongs in an article's text."""
    stripped = line.strip()
    if not stripped:
        return True
    if _DROP_LINE.search(stripped) or is_meta_line(stripped) or _DATE_WIDGET.match(stripped):
        return True
    if _PARENTHESIZED.match(stripped) or _is_toolbar(stripped) or (len(stripped) <= 200 and _EMAIL.search(stripped)):
        return True
    return len(stripped) <= _SHORT_LINE and bool(_SHORT_DROP.search(stripped))


def clean_segments(segments: list[Segment]) -> list[str]:
    """The article's lines: boilerplate lines, glued-timestamp headlines and related lists dropped."""
    lines = [(line.strip(), segment.kind == "table") for segment in segments for line in segment.lines]
    stamps = [None if row else _glued_stamp(line) for line, row in lines]
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line, row = lines[i]
        if row:
            kept.append(line)
        elif _RELATED_HEADING.match(line):
            i += 1
            while i < len(lines) and not lines[i][1] and (is_boilerplate_line(lines[i][0]) or is_title_shaped(lines[i][0])):
                i += 1
            continue
        elif not _in_headline_list(stamps, i) and not is_boilerplate_line(line):
            kept.append(line)
        i += 1
    return kept


def _in_headline_list(stamps: list[str | None], i: int) -> bool:
    """A headline glued to its timestamp: alone when the stamp has a time, else next to another one."""
    return stamps[i] == "full" or (stamps[i] == "date" and any(stamps[max(i - 1, 0) : i] + stamps[i + 1 : i + 2]))


def clean_lines(text: str) -> str:
    """Drop boilerplate lines and related-news lists from extracted text."""
    return "\n".join(clean_segments([Segment("text", text.splitlines())]))


# --- the page, before extraction ---------------------------------------------------------

_JUNK_TAGS = ("script", "style", "noscript", "iframe", "template", "svg", "canvas", "object", "embed")
_INTERACTIVE = frozenset({"form", "input", "button", "select", "textarea"})
_INLINE = frozenset(
    {
        "a",
        "abbr",
        "b",
        "big",
        "cite",
        "code",
        "em",
        "font",
        "i",
        "img",
        "label",
        "mark",
        "q",
        "s",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "time",
        "u",
        "var",
    }
)
_BR_CONTAINERS = frozenset(
    {
        "div",
        "td",
        "th",
        "section",
        "article",
        "main",
        "body",
        "center",
        "blockquote",
        "font",
        "span",
    }
)
_PARAGRAPH_LIKE = ("p", "li", "dt", "dd", "pre", "h1", "h2", "h3", "h4", "h5", "h6")
_LISTS = frozenset({"ul", "ol", "dl"})
_NUMBERED = etree.XPath(
    ".//*[self::div or self::table or self::li or self::article or self::section]"
    "[contains(translate(@id, '0123456789', '##########'), '#')]"
)
_DIGITS = re.compile(r"\d+")
_ROWS = etree.XPath("./tr|./tbody/tr|./thead/tr|./tfoot/tr")
_CELLS = etree.XPath("./tr/*|./tbody/tr/*|./thead/tr/*|./tfoot/tr/*")
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_LINK_SHARE = 0.5
_MAX_LINK_BLOCK_PROSE = 80  # letters of plain text that a block of links may carry (headings, dates)
_MAX_SMALL_BLOCK = 150  # letters around a form (a sign-up box) or a copyright line (a page footer)
_MAX_SMALL_BLOCKS = 3  # and paragraphs: more is an article that happens to hold a form
_TEXT_BLOCKS = frozenset({"p", "li", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"})
_MAX_HEADING = 20
_MIN_PULL_QUOTE_WORDS = 5
_SET_APART = ("blockquote", "aside")


@dataclass
class _Size:
    letters: int = 0
    link_letters: int = 0
    has_form: bool = False
    has_copyright: bool = False
    has_sentence: bool = False
    blocks: int = 0


def prune_page(body: HtmlElement) -> None:
    """Remove the page furniture an extractor would keep, in place (see the module docstring)."""
    for junk in list(body.iter(*_JUNK_TAGS)):
        junk.drop_tree()
    _unwrap_layout_tables(body)
    for element in {parent for br in body.iter("br") if (parent := br.getparent()) is not None}:
        if (
            isinstance(element.tag, str)
            and element.tag in _BR_CONTAINERS
            and next(element.iterancestors(*_PARAGRAPH_LIKE), None) is None
        ):
            _paragraphize(element)
    sizes: dict[HtmlElement, _Size] = {}
    _measure(body, sizes)
    drops: list[HtmlElement] = []
    _find_furniture(body, sizes, drops)
    drops.extend(_forum_replies(body))
    drops.extend(_pull_quotes(body))
    dropped = set(drops)
    for element in list(drops):
        _drop_leftovers(element, sizes, dropped, drops)
    for element in drops:
        if element.getparent() is not None:
            element.drop_tree()


def _measure(element: HtmlElement, sizes: dict[HtmlElement, _Size]) -> _Size:
    size = _Size(has_form=element.tag in _INTERACTIVE)
    _add_text(size, element.text)
    for child in element:
        if isinstance(child.tag, str):
            child_size = _measure(child, sizes)
            size.letters += child_size.letters
            size.link_letters += child_size.link_letters
            size.has_form |= child_size.has_form
            size.has_copyright |= child_size.has_copyright
            size.has_sentence |= child_size.has_sentence
            size.blocks += child_size.blocks
        _add_text(size, child.tail)
    if element.tag == "a" or element.get("onclick"):
        size.link_letters = size.letters
    size.blocks += element.tag in _TEXT_BLOCKS
    sizes[element] = size
    return size


def _add_text(size: _Size, text: str | None) -> None:
    if text and not text.isspace():
        size.letters += letters(text)
        if not size.has_copyright:
            size.has_copyright = bool(_COPYRIGHT.search(text))
        if not size.has_sentence:
            size.has_sentence = bool(_PROSE.search(text))


def _find_furniture(element: HtmlElement, sizes: dict[HtmlElement, _Size], drops: list[HtmlElement]) -> None:
    in_prose = _has_own_text(element)
    for child in element:
        if not isinstance(child.tag, str) or (in_prose and child.tag in _INLINE):
            continue  # a link in running text ("A <a>proposed levy</a> would cost…") is part of the sentence
        if _is_furniture(child, sizes[child]):
            drops.append(child)
        else:
            _find_furniture(child, sizes, drops)


def _has_own_text(element: HtmlElement) -> bool:
    """Whether ``element`` holds text of its own, outside its children (the running text of a paragraph)."""
    return bool(letters(element.text)) or any(letters(child.tail) for child in element)


def _is_furniture(element: HtmlElement, size: _Size) -> bool:
    if (
        size.letters <= _MAX_SMALL_BLOCK
        and size.blocks <= _MAX_SMALL_BLOCKS
        and (size.has_form or (size.has_copyright and not size.has_sentence))
    ):
        return True
    if (
        size.letters
        and size.link_letters >= _LINK_SHARE * size.letters
        and size.letters - size.link_letters <= _MAX_LINK_BLOCK_PROSE
    ):
        return True
    return element.tag in _LISTS and _is_headline_list(element)


def _is_headline_list(element: HtmlElement) -> bool:
    """Three or more items, each a headline (alone or glued to a timestamp), not introduced by "…：".

    A Chinese headline may stand alone; short unfinished items in alphabetic script are an
    article's key points or steps as often as headlines (English sites link their headlines,
    which the link rule takes), so they count only when glued to a timestamp.
    """
    items = [" ".join(item.text_content().split()) for item in element if isinstance(item.tag, str)]
    if len(items) < 3 or not all(_glued_stamp(item) or (is_title_shaped(item) and _CJK.search(item)) for item in items):
        return False
    previous, parent = element.getprevious(), element.getparent()
    introduction = (
        previous.text_content() if previous is not None else (parent.text if parent is not None else "") or ""
    ).strip()
    return not introduction.endswith((":", "："))


def _forum_replies(body: HtmlElement) -> list[HtmlElement]:
    """Posts after the first on a thread: siblings with numbered ids (post_1, post_2…), each time-stamped."""
    groups: dict[tuple[HtmlElement, str, str], list[HtmlElement]] = {}
    for element in _NUMBERED(body):
        groups.setdefault((element.getparent(), element.tag, _DIGITS.sub("#", element.get("id"))), []).append(element)
    return [
        reply
        for posts in groups.values()
        if len(posts) >= 2 and all(_FULL_STAMP.search(post.text_content()) for post in posts)
        for reply in posts[1:]
    ]


def _pull_quotes(body: HtmlElement) -> list[HtmlElement]:
    """Quotes set apart (``<blockquote>``, ``<aside>``) whose words all come from one paragraph of the text."""
    paragraphs = [
        set(_WORD.findall(p.text_content().lower())) for p in body.iter("p") if next(p.iterancestors(*_SET_APART), None) is None
    ]
    found = []
    for quote in body.iter(*_SET_APART):
        words = set(_WORD.findall(quote.text_content().lower()))
        if len(words) >= _MIN_PULL_QUOTE_WORDS and any(words <= others for others in paragraphs):
            found.append(quote)
    return found


def _drop_leftovers(
    element: HtmlElement, sizes: dict[HtmlElement, _Size], dropped: set[HtmlElement], drops: list[HtmlElement]
) -> None:
    """The heading just before a dropped block, and wrappers left holding only a heading."""
    previous = element.getprevious()
    if previous is not None and previous not in dropped and _is_heading(previous, sizes):
        dropped.add(previous)
        drops.append(previous)
    parent = element.getparent()
    while parent is not None and parent.tag != "body" and parent not in dropped:
        remaining = sizes[parent].letters - sum(sizes[c].letters for c in parent if c in dropped)
        if remaining > _MAX_HEADING:
            break
        dropped.add(parent)
        drops.append(parent)
        parent = parent.getparent()


def _is_heading(element: HtmlElement, sizes: dict[HtmlElement, _Size]) -> bool:
    if not isinstance(element.tag, str):
        return False
    if element.tag in _HEADINGS:
        return True
    text = element.text_content().strip()
    return sizes[element].letters <= _MAX_HEADING and is_title_shaped(text) and all(c.tag in _INLINE for c in element)


def _unwrap_layout_tables(body: HtmlElement) -> None:
    """Tables used for layout become nested blocks; data tables stay tables."""
    layout = [table for table in body.iter("table") if not _is_data_table(table)]
    for table in layout:
        for element in [*_ROWS(table), *_CELLS(table), *table.iterchildren("tbody", "thead", "tfoot", "caption"), table]:
            element.tag = "div"


def _is_data_table(table: HtmlElement) -> bool:
    """Mozilla Readability's test, roughly: a grid of at least two rows and columns, no nested
    table, and header cells, a caption, or at least ten cells; no cell holding a whole article."""
    if table.get("role") in ("presentation", "none") or table.find(".//table") is not None:
        return False
    rows = _ROWS(table)
    columns = max((len(row.xpath("./td|./th")) for row in rows), default=0)
    if len(rows) < 2 or columns < 2:
        return False
    if any(letters(cell.text_content()) > 300 for row in rows for cell in row):
        return False
    return table.find(".//th") is not None or table.find("caption") is not None or len(rows) * columns >= 10


def _paragraphize(element: HtmlElement) -> None:
    """Split an element's loose text at each ``<br>`` into paragraphs; block children stay as they are."""
    pieces: list[str | HtmlElement] = [element.text or ""]
    for child in element:
        pieces += [child, child.tail or ""]
        child.tail = None
    if not any(isinstance(p, str) and p.strip() for p in pieces) and not any(
        isinstance(p, HtmlElement) and p.tag in _INLINE for p in pieces
    ):
        return
    element.text = None
    for child in list(element):
        element.remove(child)
    paragraph: HtmlElement | None = None
    for piece in pieces:
        if isinstance(piece, str):
            if not piece.strip() and paragraph is None:
                continue
            if paragraph is None:
                paragraph = lxml_html.Element("p")
                element.append(paragraph)
            if len(paragraph):
                paragraph[-1].tail = (paragraph[-1].tail or "") + piece
            else:
                paragraph.text = (paragraph.text or "") + piece
        elif not isinstance(piece.tag, str) or piece.tag == "br":
            paragraph = None
        elif piece.tag in _INLINE:
            if paragraph is None:
                paragraph = lxml_html.Element("p")
                element.append(paragraph)
            paragraph.append(piece)
        else:
            element.append(piece)
            paragraph = None
