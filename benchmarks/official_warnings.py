"""Official warnings at scale: a CAP index of N alerts parsed and matched against R regions.

Synthetic, deterministic data (``--seed``): N CAP 1.2 documents (default 500) in the shape of
``tests/fixtures/cap/cma-thunder-alert.xml`` (two ``<info>`` languages), each area a polygon of
``--vertices`` points (default 100) around a random centre in south-west China, every fifth a
circle instead and every tenth with a geocode as well; an Atom index listing them; and R regions
(default 50) spread over the same box, each with one geocode.

Figures:

* **parse + match** (pure, what a read of the feed costs in CPU): ``parse_index`` of the index,
  ``parse_cap`` of every document, and ``covers`` for every (warning, region) pair;
* **service** (``--service``): the same documents served from a loopback HTTP server and read by
  ``WarningsService`` into a temporary SQLite database (first read: index and every document
  fetched and stored), then ``announcements`` on the next read (the index only: the documents are
  known) and from the database alone.

    python benchmarks/official_warnings.py [--alerts 500] [--regions 50] [--vertices 100] [--service]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer.weather.cap import parse_cap, parse_index  # noqa: E402

SENT = datetime(2023, 2, 24, 6, 0, tzinfo=UTC)
BOX = (24.0, 32.0, 102.0, 110.0)  # lat_min, lat_max, lon_min, lon_max


def alert_document(index: int, rng: random.Random, vertices: int) -> str:
    """One CAP alert with a zh-CN and an en-US ``<info>``, its area a polygon or a circle."""
    lat, lon = rng.uniform(*BOX[:2]), rng.uniform(*BOX[2:])
    if index % 5 == 4:
        shape = f"<circle>{lat:.4f},{lon:.4f} {rng.uniform(5, 60):.1f}</circle>"
    else:
        radius = rng.uniform(0.2, 1.5)
        ring = [
            (lat + radius * math.sin(a) * rng.uniform(0.6, 1.0), lon + radius * math.cos(a) * rng.uniform(0.6, 1.0))
            for a in (2 * math.pi * k / vertices for k in range(vertices))
        ]
        ring.append(ring[0])
        shape = "<polygon>" + " ".join(f"{a:.4f},{b:.4f}" for a, b in ring) + "</polygon>"
    geocode = f"<geocode><valueName>CMA</valueName><value>{500100 + index}</value></geocode>" if index % 10 == 0 else ""
    sent = SENT + timedelta(minutes=index)
    infos = "".join(
        f"<info><language>{language}</language><category>Met</category><event>{event}</event>"
        f"<urgency>Expected</urgency><severity>{rng.choice(['Minor', 'Moderate', 'Severe'])}</severity>"
        f"<certainty>Likely</certainty><onset>{sent.isoformat()}</onset>"
        f"<expires>{(sent + timedelta(hours=12)).isoformat()}</expires><senderName>Observatory {index}</senderName>"
        f"<headline>{event} {index}</headline><description>{event} expected over the area. {'x' * 300}</description>"
        f"<instruction>Take care.</instruction><area><areaDesc>Area {index}</areaDesc>{shape}{geocode}</area></info>"
        for language, event in (("zh-CN", "雷电"), ("en-US", "Thunder and Lightning"))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        f"<identifier>bench-{index}</identifier><sender>bench@example.org</sender><sent>{sent.isoformat()}</sent>"
        f"<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>{infos}</alert>"
    )


def index_document(base: str, count: int) -> str:
    entries = "".join(
        f'<entry><id>{base}/cap/{i}.xml</id><title>alert {i}</title><updated>{SENT.isoformat()}</updated>'
        f'<link href="{base}/cap/{i}.xml" type="application/cap+xml"/></entry>'
        for i in range(count)
    )
    return (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><id>bench</id><title>warnings</title>'
        f"<updated>{SENT.isoformat()}</updated>{entries}</feed>"
    )


def regions(count: int, rng: random.Random) -> list[tuple[float, float, list[str]]]:
    return [(rng.uniform(*BOX[:2]), rng.uniform(*BOX[2:]), [f"CMA:{500100 + rng.randrange(1000)}"]) for _ in range(count)]


def parse_and_match(index: str, documents: dict[str, str], places) -> tuple[float, float, float, int]:
    """Seconds to read the index, to parse the documents, to match; and the (warning, region) hits."""
    start = time.perf_counter()
    urls = parse_index(index.encode())
    listed = time.perf_counter()
    warnings = [parse_cap(documents[url].encode(), url) for url in urls]
    parsed = time.perf_counter()
    hits = sum(w.covers(lat, lon, codes) for w in warnings for lat, lon, codes in places)
    matched = time.perf_counter()
    return listed - start, parsed - listed, matched - parsed, hits


def serve(documents: dict[str, bytes]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


async def through_service(count: int, places, rng: random.Random, vertices: int) -> None:
    from bot.config import Settings
    from bot.storage import Database
    from bot.warnings_service import WarningsService

    served: dict[str, bytes] = {}
    server, base = serve(served)
    served.update({f"/cap/{i}.xml": alert_document(i, rng, vertices).encode() for i in range(count)})
    served["/index.atom"] = index_document(base, count).encode()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.model_validate(
            {
                "database": {"url": f"sqlite:///{folder}/bench.db"},
                "fetch": {"min_delay_seconds": 0},
                "warnings": [{"kind": "cap", "url": f"{base}/index.atom", "max_documents": count}],
                "regions": [
                    {"name": f"region {i}", "latitude": lat, "longitude": lon, "warning_geocodes": codes}
                    for i, (lat, lon, codes) in enumerate(places)
                ],
            }
        )
        db = Database(settings.database.url)
        service = WarningsService(settings, db)
        now = SENT + timedelta(hours=1)
        start = time.perf_counter()
        first = await service.announcements(now)
        fetched = time.perf_counter()
        again = await service.announcements(now + timedelta(minutes=10))
        second = time.perf_counter()
        await service.announcements(now + timedelta(minutes=11))  # not due: the database alone
        stored = time.perf_counter()
        db.close()
    server.shutdown()
    print(f"service, first read ({count} documents fetched and stored): {fetched - start:.2f} s, {len(first)} announcements")
    print(f"service, next read (index only) + announcements: {second - fetched:.2f} s, {len(again)} announcements")
    print(f"service, announcements from the database alone: {stored - second:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=500)
    parser.add_argument("--regions", type=int, default=50)
    parser.add_argument("--vertices", type=int, default=100)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--service", action="store_true", help="also read them through WarningsService from loopback")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    base = "http://127.0.0.1:1"
    documents = {f"{base}/cap/{i}.xml": alert_document(i, rng, args.vertices) for i in range(args.alerts)}
    index = index_document(base, args.alerts)
    places = regions(args.regions, rng)
    size = sum(len(d.encode()) for d in documents.values())
    print(f"{args.alerts} CAP alerts ({size / 1e6:.1f} MB, polygons of {args.vertices} vertices), {args.regions} regions")
    best = min((parse_and_match(index, documents, places) for _ in range(3)), key=sum)
    listed, parsed, matched, hits = best
    print(f"index: {listed:.3f} s, parse: {parsed:.3f} s, match: {matched:.3f} s, total: {sum(best[:3]):.3f} s (best of 3)")
    print(f"{hits} (warning, region) pairs matched of {args.alerts * args.regions}")
    if args.service:
        asyncio.run(through_service(args.alerts, places, random.Random(args.seed), args.vertices))


if __name__ == "__main__":
    main()
