"""OPML 2.0, the subscription list every feed reader imports and exports.

A feed is an ``<outline type="rss" xmlUrl="…">``; a listing page an ``<outline type="link"
url="…">``. What only newsbot knows (the kind, the interval, the link pattern, a language hint,
a paused state) rides along in attributes of its own namespace, which other readers ignore.
Reading goes through defusedxml (no entity expansion, no external resources); nested
outlines (folders) are flattened.
"""

from __future__ import annotations

import email.utils
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import datetime

import defusedxml.ElementTree
from defusedxml import DefusedXmlException
from pydantic import ValidationError

from bot.config import SourceSettings

NAMESPACE = "https://github.com/newsbot/newsbot#opml"
MAX_OUTLINES = 10_000  # a file with more sources than this is refused, not half read
_ATTRIBUTES = ("kind", "interval", "link_pattern", "max_articles", "language", "state")


class OpmlError(ValueError):
    """The file is not OPML that can be read; the message says why in one line."""


def _ours(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def export_opml(sources: Iterable[SourceSettings], title: str, now: datetime) -> str:
    """The sources as an OPML 2.0 document (a paused source carries ``newsbot:state="paused"``)."""
    ET.register_namespace("newsbot", NAMESPACE)
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = email.utils.format_datetime(now)
    body = ET.SubElement(root, "body")
    for source in sources:
        outline = ET.SubElement(body, "outline", text=source.name, title=source.name)
        if source.kind == "rss":
            outline.set("type", "rss")
            outline.set("xmlUrl", source.url)
        else:
            outline.set("type", "link")
            outline.set("url", source.url)
        outline.set(_ours("kind"), source.kind)
        outline.set(_ours("interval"), str(source.interval_minutes))
        outline.set(_ours("max_articles"), str(source.max_articles))
        if source.link_pattern:
            outline.set(_ours("link_pattern"), source.link_pattern)
        if source.language:
            outline.set(_ours("language"), source.language)
        if not source.enabled:
            outline.set(_ours("state"), "paused")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def parse_opml(data: bytes) -> tuple[list[SourceSettings], list[str]]:
    """The sources in an OPML document, and one line per outline that could not be read.

    Outlines without an address (folders, notes) are not sources and are passed over; a name
    used twice gets a number. OpmlError when the document itself cannot be read.
    """
    try:
        root = defusedxml.ElementTree.fromstring(data)
    except ET.ParseError as exc:
        raise OpmlError(f"not valid XML: {exc}") from None
    except DefusedXmlException as exc:
        raise OpmlError(f"refused: {exc}") from None
    if root.tag != "opml":
        raise OpmlError(f"not OPML: the document is <{root.tag}>, not <opml>")
    body = root.find("body")
    if body is None:
        raise OpmlError("not OPML: there is no <body>")
    outlines = list(body.iter("outline"))
    if len(outlines) > MAX_OUTLINES:
        raise OpmlError(f"{len(outlines)} outlines: more than {MAX_OUTLINES} sources in one file")
    sources: list[SourceSettings] = []
    problems: list[str] = []
    names: set[str] = set()
    for number, outline in enumerate(outlines, 1):
        attributes = {key: value.strip() for key, value in outline.attrib.items()}
        ours = {name: attributes.get(_ours(name)) for name in _ATTRIBUTES}
        url = attributes.get("xmlUrl") or attributes.get("xmlurl") or attributes.get("url")
        if not url:
            continue
        kind = ours["kind"] or ("rss" if attributes.get("xmlUrl") or attributes.get("xmlurl") else "page")
        name = " ".join((attributes.get("title") or attributes.get("text") or url).split())
        unique, copy = name, 2
        while unique in names:
            unique, copy = f"{name} ({copy})", copy + 1
        fields = {
            "name": unique,
            "kind": kind,
            "url": url,
            "link_pattern": ours["link_pattern"] or None,
            "language": ours["language"] or None,
            "enabled": ours["state"] != "paused",
        }
        if ours["interval"]:
            fields["interval_minutes"] = ours["interval"]
        if ours["max_articles"]:
            fields["max_articles"] = ours["max_articles"]
        try:
            sources.append(SourceSettings.model_validate(fields))
        except ValidationError as exc:
            error = exc.errors()[0]
            problems.append(
                f"outline {number} ({name}): {'.'.join(map(str, error['loc']))}: {error['msg'].removeprefix('Value error, ')}"
            )
            continue
        names.add(unique)
    return sources, problems
