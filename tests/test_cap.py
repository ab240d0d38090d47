"""CAP 1.2 and HKO warnings read into dataclasses, and where they apply (tests/fixtures/cap)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from summarizer.weather.cap import (
    CapError,
    OfficialWarning,
    distance_km,
    inside_polygon,
    is_cap,
    parse_cap,
    parse_hko,
    parse_index,
    reader_language,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cap"
PDT = timezone(timedelta(hours=-7))
CST = timezone(timedelta(hours=8))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def hko(kind: str) -> dict:
    return {lang: json.loads(fixture(f"hko-{kind}-{lang}.json")) for lang in ("en", "tc", "sc")}


def test_the_specifications_thunderstorm_warning():
    warning = parse_cap(fixture("spec-severe-thunderstorm.xml"), "https://example.org/a.xml")
    assert (warning.identifier, warning.sender, warning.msg_type, warning.status) == (
        "KSTO1055887203", "KSTO@NWS.NOAA.GOV", "Alert", "Actual")
    assert warning.sent == datetime(2003, 6, 17, 14, 57, tzinfo=PDT)
    [info] = warning.infos
    assert (info.language, info.original_language) == ("en", "en-US")  # CAP's default language
    assert (info.event, info.severity, info.urgency, info.certainty) == ("SEVERE THUNDERSTORM", "Severe", "Immediate", "Observed")
    assert info.headline == "SEVERE THUNDERSTORM WARNING" and info.instruction.startswith("TAKE COVER")
    assert warning.expires == datetime(2003, 6, 17, 16, 0, tzinfo=PDT) and warning.onset is None
    [area] = info.areas
    assert area.polygons[0][0] == (38.47, -120.14) and len(area.polygons[0]) == 5
    assert area.geocodes == (("SAME", "006109"), ("SAME", "006009"), ("SAME", "006003"))
    assert warning.url == "https://example.org/a.xml"


def test_the_specifications_earthquake_update_references_what_it_updates():
    warning = parse_cap(fixture("spec-earthquake-update.xml"))
    assert warning.msg_type == "Update" and warning.references == ("TRI13970876.1",)
    assert warning.infos[0].areas[0].circles == ((32.9525, -115.5527, 0.0),)
    assert warning.severity == "Minor"


@pytest.mark.parametrize("latitude, longitude, geocodes, expected", [
    pytest.param(38.48, -119.94, (), True, id="inside-the-polygon"),
    pytest.param(38.70, -119.94, (), False, id="north-of-it"),
    pytest.param(30.67, 107.80, (), False, id="far-away"),
    pytest.param(30.67, 107.80, ("006003",), True, id="by-geocode-value"),
    pytest.param(30.67, 107.80, ("same:006009",), True, id="by-valueName:value-any-case"),
    pytest.param(30.67, 107.80, ("EMMA_ID:006009",), False, id="another-code-system"),
])
def test_a_point_or_geocode_is_covered(latitude, longitude, geocodes, expected):
    warning = parse_cap(fixture("spec-severe-thunderstorm.xml"))
    assert warning.covers(latitude, longitude, geocodes) is expected


def test_a_circle_covers_what_lies_within_its_radius():
    warning = parse_cap(fixture("spec-earthquake-update.xml").replace(b"-115.5527 0<", b"-115.5527 10<"))
    assert warning.covers(32.99, -115.55)  # about 4 km north
    assert not warning.covers(33.10, -115.55)  # about 16 km


def test_every_info_language_and_the_readers_language():
    warning = parse_cap(fixture("cma-thunder-alert.xml"))
    assert [i.language for i in warning.infos] == ["zh-Hans", "en"]
    assert warning.info_for("en").event == "Thunder and Lightning" and warning.info_for("zh-Hant") is None
    assert warning.onset == datetime(2023, 2, 24, 20, tzinfo=CST) and warning.expires == datetime(2023, 2, 25, 8, tzinfo=CST)
    assert warning.covers(30.67, 107.80) and warning.covers(0, 0, ["500155"])


@pytest.mark.parametrize("code, expected", [
    ("en-US", "en"), ("EN", "en"), ("zh-TW", "zh-Hant"), ("zh-HK", "zh-Hant"), ("zh-Hant-TW", "zh-Hant"),
    ("zh-CN", "zh-Hans"), ("zh", "zh-Hans"), ("zh_Hans", "zh-Hans"), ("de-DE", "de-de"), ("", "en"),
])
def test_reader_language(code, expected):
    assert reader_language(code) == expected


def test_an_update_is_told_from_the_same_area_and_severity():
    alert, extended, raised = (parse_cap(fixture(f"cma-thunder-{n}.xml")) for n in ("alert", "extended", "raised"))
    assert extended.references == ("50015541600000_20230224140000",)
    assert alert.area_signature() == extended.area_signature() == raised.area_signature()
    assert (alert.severity, extended.severity, raised.severity) == ("Moderate", "Moderate", "Severe")


def test_a_warning_survives_its_json_form():
    for name in ("cma-thunder-alert.xml", "spec-severe-thunderstorm.xml", "spec-earthquake-update.xml"):
        warning = parse_cap(fixture(name))
        assert OfficialWarning.from_dict(json.loads(json.dumps(warning.to_dict()))) == warning


@pytest.mark.parametrize("document, reason", [
    pytest.param(b"<alert><identifier>x</identifier>", "well-formed", id="cut-short"),
    pytest.param(b"<feed/>", "root element is <feed>", id="not-an-alert"),
    pytest.param(b"<alert><sent>2023-02-24T14:00:00+08:00</sent></alert>", "identifier", id="no-identifier"),
    pytest.param(b"<alert><identifier>x</identifier><sent>yesterday</sent></alert>", "not a date", id="bad-sent"),
    pytest.param(b'<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><alert>&e;</alert>', "XML", id="external-entity"),
])
def test_a_bad_document_is_a_one_line_error(document, reason):
    with pytest.raises(CapError, match=reason) as caught:
        parse_cap(document)
    assert "\n" not in str(caught.value)


def test_bad_points_are_skipped_and_a_ring_needs_four():
    document = fixture("spec-severe-thunderstorm.xml").replace(
        b"38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14", b"38.47,-120.14 x,y 95,10 38.34,-119.95")
    assert parse_cap(document).infos[0].areas[0].polygons == ()


def test_the_index_lists_its_cap_documents():
    index = fixture("meteoalarm-index.atom").replace(b"{base}", b"http://127.0.0.1:1")
    assert parse_index(index) == ["http://127.0.0.1:1/cap/thunder.xml", "/cap/frost.xml"]
    assert not is_cap(index) and is_cap(fixture("cma-thunder-alert.xml"))
    rss = b"""<rss version="2.0"><channel><title>t</title><item><title>a</title>
        <link>https://example.org/cap/1.xml</link></item></channel></rss>"""
    assert parse_index(rss) == ["https://example.org/cap/1.xml"]
    with pytest.raises(CapError, match="index"):
        parse_index(b"<html><body>maintenance</body></html>")


def test_hko_warnings_in_three_languages():
    warnings = {w.series: w for w in parse_hko(hko("warnsum"), hko("warninginfo"))}
    rain, storm = warnings["hko:WRAIN"], warnings["hko:WTS"]
    assert [i.language for i in rain.infos] == ["en", "zh-Hant", "zh-Hans"]
    assert rain.info_for("en").headline == "Amber Rainstorm Warning Signal"
    assert rain.info_for("zh-Hant").headline == "黃色暴雨警告信號"
    assert "30毫米" in rain.info_for("zh-Hant").description
    assert (rain.msg_type, rain.severity, storm.msg_type) == ("Alert", "Moderate", "Update")
    assert storm.expires == datetime(2023, 2, 24, 11, tzinfo=CST)
    assert rain.covers(22.30, 114.17) and rain.covers(22.50, 114.13) and rain.covers(22.25, 113.86)  # Sheung Shui, Tai O
    assert not any(rain.covers(*place) for place in ((22.543, 114.058), (22.48, 113.92), (22.57, 114.27), (22.19, 113.54)))
    assert rain.identifier != parse_hko({"en": {"WRAIN": {**hko("warnsum")["en"]["WRAIN"], "code": "WRAINR"}}})[0].identifier


def test_hko_answers_of_the_wrong_shape():
    assert parse_hko({"en": {}}) == []  # nothing in force
    with pytest.raises(CapError, match="issueTime"):
        parse_hko({"en": {"WRAIN": {"name": "Rainstorm Warning Signal"}}})
    with pytest.raises(CapError, match="not a JSON object"):
        parse_hko({"en": []})


def test_geometry():
    square = ((0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0), (0.0, 0.0))
    assert inside_polygon(0.5, 0.5, square) and not inside_polygon(1.5, 0.5, square)
    assert abs(distance_km(30.67, 107.80, 29.56, 106.55) - 170) < 5  # Liangping to Chongqing


@given(st.floats(-89, 89), st.floats(-179, 179), st.floats(0.01, 5), st.floats(0.01, 5))
def test_a_rectangles_inside_is_what_its_bounds_say(lat, lon, height, width):
    ring = ((lat, lon), (lat, lon + width), (lat + height, lon + width), (lat + height, lon), (lat, lon))
    assert inside_polygon(lat + height / 2, lon + width / 2, ring)
    assert not inside_polygon(lat + height * 1.5, lon + width / 2, ring)
    assert not inside_polygon(lat + height / 2, lon - width / 2, ring)
