"""Boilerplate removal for news portals, Chinese ones in particular.

Works on the extracted text line by line, and on the HTML before extraction for blocks
that an extractor would keep (a related-news list inside the article container).
"""

from __future__ import annotations

import re

from lxml import html as lxml_html

_RELATED_HEADING = re.compile(
    r"^[【\[〔]?\s*(相關新聞|相关新闻|相關閱讀|相关阅读|相關文章|相关文章|相關報道|相关报道|延伸閱讀|延伸阅读|"
    r"推薦閱讀|推荐阅读|熱點新聞|热点新闻|熱門文章|热门文章|猜你喜歡|猜你喜欢|更多新聞|更多新闻|"
    r"related (?:news|articles|stories|coverage)|read more|more stories|you may also like|more from [\w ]+)"
    r"\s*[】\]〕]?\s*[:：]?$",
    re.I,
)
_DROP_LINE = [
    re.compile(r"^[(（\[【]?\s*(相關|相关)?(資料|资料)?(圖|图)(片)?\s*[)）\]】]?$"),
    re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(\s+\d{1,2}:\d{2}(:\d{2})?)?$"),
    re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日(\s*\d{1,2}[:：]\d{2}([:：]\d{2})?)?$"),
    re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$"),
    re.compile(r"^(關鍵詞|关键词|關鍵字|关键字|標籤|标签|tags?|keywords?)\s*[:：].*$", re.I),
    re.compile(r"^(上一篇|下一篇|上一條|下一条|上一頁|下一页|下一頁|上一页|previous( article)?|next( article)?)\s*[:：].*$", re.I),
    re.compile(r"^(瀏覽|浏览|閱讀|阅读|點擊|点击|訪問|访问)(次數|次数|量|數|数)?\s*[:：]?\s*\d+\s*次?$"),
    re.compile(r"^\d+\s*(次瀏覽|次浏览|人閱讀|人阅读|views?|reads?)$", re.I),
    re.compile(r"^[.。…·•\-—_=*~\s]+$"),
    re.compile(r"^(打印|列印|關閉|关闭|返回頂部|返回顶部|首頁|首页|返回首頁|返回首页|print|close|back to top|home|"
               r"【?字[體体号號][:：]?.*】?)$", re.I),
]
_SHORT_DROP = [  # only on short lines: the same words inside a paragraph are news, not furniture
    re.compile(r"(版權所有|版权所有|copyright|©|icp[備备]|公網安備|公网安备|未經授權|未经授权|all rights reserved)", re.I),
    re.compile(r"^(分享到|分享|share( this)?( on)?)\s*[:：]?", re.I),
    re.compile(
        r"^[(（]?\s*(文|圖|图|攝影|摄影|記者|记者|責編|责编|責任編輯|责任编辑|編輯|编辑|審核|审核|校對|校对|"
        r"來源|来源|作者|通訊員|通讯员|實習生|实习生|監製|监制|統籌|统筹|終審|终审)\s*[:：/|丨｜\s]"
    ),
    re.compile(r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(\s*\d{1,2}:\d{2}(:\d{2})?)?[\s\u3000]+[^，,。！？!?]*$"),
    re.compile(r"^[(（]?\s*(by|reporter|editor|edited by|photos? by|source)\s*[:：]?\s+[^.!?]*$", re.I),
]
_SHORT_LINE = 60
_RELATED_CLASS = re.compile(
    r"(?:^|[\s_-])(related|relate|xgxw|xgwz|recommend|tuijian|share|bdshare|pagination|pager|prev|next)", re.I
)


def is_boilerplate_line(line: str) -> bool:
    """True for page furniture that never belongs in an article's text."""
    stripped = line.strip()
    if not stripped:
        return True
    if any(p.search(stripped) for p in _DROP_LINE):
        return True
    return len(stripped) <= _SHORT_LINE and any(p.search(stripped) for p in _SHORT_DROP)


def _is_link_like(line: str) -> bool:
    """A headline-ish line of a related list: short and not a finished sentence."""
    stripped = line.strip()
    return len(stripped) <= 45 and not re.search(r"[。！？!?]$", stripped)


def clean_lines(text: str) -> str:
    """Drop boilerplate lines and related-news lists from extracted text."""
    kept: list[str] = []
    lines = [line.strip() for line in text.splitlines()]
    i = 0
    while i < len(lines):
        line = lines[i]
        if _RELATED_HEADING.match(line):
            i += 1
            while i < len(lines) and (is_boilerplate_line(lines[i]) or _is_link_like(lines[i])):
                i += 1
            continue
        if not is_boilerplate_line(line):
            kept.append(line)
        i += 1
    return "\n".join(kept)


def strip_html_furniture(tree: lxml_html.HtmlElement) -> None:
    """Remove related-news blocks, share bars and pagers from a parsed page, in place.

    A block goes when its class/id says so, or when it is a related-news heading: then
    the heading, the list that follows it and a wrapper holding nothing else go too.
    """
    for element in list(tree.iter()):
        if not isinstance(element.tag, str) or element.getparent() is None:
            continue
        marker = f"{element.get('class', '')} {element.get('id', '')}"
        if marker.strip() and _RELATED_CLASS.search(marker) and len(element.text_content()) < 2000:
            element.drop_tree()
            continue
        if element.tag in {"h2", "h3", "h4", "h5", "div", "p", "span", "strong", "b", "dt"} and len(element) <= 1:
            if _RELATED_HEADING.match(element.text_content().strip()):
                _drop_related_block(element)


def _drop_related_block(heading: lxml_html.HtmlElement) -> None:
    sibling = heading.getnext()
    while sibling is not None and sibling.tag in {"ul", "ol", "dl", "div", "table", "p"}:
        following = sibling.getnext()
        if sibling.tag in {"div", "p"} and not sibling.findall(".//a"):
            break
        sibling.drop_tree()
        sibling = following
    parent = heading.getparent()
    heading.drop_tree()
    if parent is not None and parent.getparent() is not None and not parent.text_content().strip():
        parent.drop_tree()
