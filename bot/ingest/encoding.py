"""Decoding fetched bytes robustly: declared charset, sniffed charset, then detection.

Chinese portals often declare one encoding and serve another (UTF-8 declared, GBK served),
or name GB2312 for text that needs GBK/GB18030. Declared GB names are widened to GB18030
and Big5 to Big5-HKSCS, and a declaration is only trusted when the bytes decode cleanly.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "big5hkscs", "cp950": "big5hkscs"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]*encoding\s*=\s*["']([\w-]+)["']""", re.I)
_CANDIDATES = ["utf_8", "gb18030", "big5hkscs"]
# codecs Python counts as text encodings that no document is written in
_NOT_CHARSETS = frozenset({"punycode", "idna", "undefined", "unicode-escape", "raw-unicode-escape"})


def _normalise(name: str | None) -> str | None:
    """The codec to decode a declared charset with; None for unknown names and non-text codecs."""
    if not name:
        return None
    try:
        codec = codecs.lookup(name)
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        return None
    if not codec._is_text_encoding or codec.name in _NOT_CHARSETS:  # base64, zlib, rot13, hex, punycode...
        return None
    canonical = codec.name
    return _WIDER.get(name.lower(), _WIDER.get(canonical, canonical))


def sniff_declared(data: bytes) -> str | None:
    """The charset a document declares in its XML declaration or <meta> tag."""
    head = data[:4096]
    match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii", "ignore") if match else None


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode ``data``: BOM, then the declared/sniffed charset, then UTF-8, then detection."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(name, errors="replace")
    tried: list[str] = []
    for charset in (_normalise(declared), _normalise(sniff_declared(data)), "utf-8"):
        if charset and charset not in tried:
            tried.append(charset)
            try:
                return data.decode(charset)
            except UnicodeError:
                continue
    best = from_bytes(data, cp_isolation=_CANDIDATES).best()
    if best is not None:
        return str(best)
    return data.decode("gb18030", errors="replace")
