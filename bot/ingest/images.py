"""An article's lead image: the picture a page declares for sharing (``og:image``,
``twitter:image``, ``image_src``), else the first picture of its content.

The URL comes back absolute (against ``<base href>`` or the page's own URL) and only when it is
an ``http(s)`` address that Telegram could fetch. Site logos, icons, avatars, share buttons, QR
codes, spacers and tracking pixels are passed over (by their address, their ``class``/``id``/
``alt`` and those of their containers, or a declared size under :data:`MIN_SIDE` pixels), and so
are ``data:`` URIs, SVG and ICO files.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html

from bot.storage.models import IMAGE_URL_CHARS

MIN_SIDE = 100  # pixels: an image declared smaller on either side is an icon, a button or a pixel
_DECLARED = (
    "//meta[@property='og:image' or @property='og:image:url' or @property='og:image:secure_url']/@content",
    "//meta[@name='twitter:image' or @name='twitter:image:src' or @property='twitter:image']/@content",
    "//link[@rel='image_src']/@href",
)
_LAZY_SOURCES = ("data-src", "data-original", "data-lazy-src", "data-url", "src")  # lazy loaders keep the real one aside
# marks of furniture: anywhere in a word ("sitelogo"), or as a word of their own ("share" but not "shared")
_NOT_A_PICTURE = re.compile(
    r"logo|favicon|sprite|avatar|spacer|erweima|qr_?code|"
    r"(?<![a-z])(?:icons?|emoji|blank|pixel|1x1|beacon|track(?:ing)?|badge|qr|share|weixin|wechat|"
    r"button|btn|loading|placeholder|ads?|advert)(?![a-z])",
    re.I,
)
_NOT_CONTENT = frozenset({"header", "nav", "footer", "aside", "form", "button"})
_REFUSED_SUFFIXES = (".svg", ".svgz", ".ico")
_SIZE = re.compile(r"\s*(\d+)")
_CONTAINERS = 4  # levels of containers whose class/id are read


def lead_image(tree: lxml_html.HtmlElement, url: str | None) -> str | None:
    """The lead image of a parsed page (its furniture already pruned from the body), or None.

    ``url`` is the page's address, for relative image addresses (None: a local file; only
    absolute image addresses count then)."""
    base = _base(tree, url)
    for query in _DECLARED:
        for value in tree.xpath(query):
            if (found := usable_image_url(str(value), base)) is not None:
                return found
    body = tree.find("body")
    if body is None:
        return None
    for image in body.iter("img"):
        if _is_content_picture(image) and (found := _source(image, base)) is not None:
            return found
    return None


def usable_image_url(value: str, base: str | None) -> str | None:
    """``value`` as an absolute ``http(s)`` URL of a picture worth showing, else None."""
    value = value.strip()
    if not value or value.lower().startswith("data:"):
        return None
    absolute = urljoin(base, value) if base else value
    try:
        parts = urlsplit(absolute)
    except ValueError:  # an unbalanced IPv6 bracket and the like
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(absolute) > IMAGE_URL_CHARS:
        return None
    if any(ch.isspace() for ch in absolute) or parts.path.lower().endswith(_REFUSED_SUFFIXES):
        return None
    if _NOT_A_PICTURE.search(f"{parts.path}?{parts.query}"):
        return None
    return absolute


def _base(tree: lxml_html.HtmlElement, url: str | None) -> str | None:
    declared = tree.xpath("string(//head/base/@href)").strip()
    if declared:
        return urljoin(url, declared) if url else declared
    return url if url and url.startswith(("http://", "https://")) else None


def _source(image: lxml_html.HtmlElement, base: str | None) -> str | None:
    for attribute in _LAZY_SOURCES:
        if (value := image.get(attribute)) and (found := usable_image_url(value, base)) is not None:
            return found
    return None


def _is_content_picture(image: lxml_html.HtmlElement) -> bool:
    """Whether ``img`` is a picture of the article: not furniture by its marks or its place,
    and not declared icon-sized."""
    for side in ("width", "height"):
        size = _SIZE.match(image.get(side) or "")
        if size and int(size[1]) < MIN_SIDE:
            return False
    if _NOT_A_PICTURE.search(f"{image.get('class', '')} {image.get('id', '')} {image.get('alt', '')}"):
        return False
    for level, container in enumerate(image.iterancestors()):
        if container.tag in _NOT_CONTENT:
            return False
        if level < _CONTAINERS and _NOT_A_PICTURE.search(f"{container.get('class', '')} {container.get('id', '')}"):
            return False
    return True
