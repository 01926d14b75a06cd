"""Catalogue keyword search (chalicelib/catalog/search.py) at 1,000 and 20,000 offerings, in
process over plain documents (no AWS): index build time and memory, and the time of a warm channel
search (visibility of every offering for the channel, then ranking) per query, p50 and p95."""
from __future__ import annotations

import random
import statistics
import time
import tracemalloc

from bench.harness import table

WORDS = ("fibre broadband mobile unlimited phone tablet watch router mesh wifi security camera alarm doorbell "
         "sensor smart home tv sport cinema kids music streaming gaming cloud storage backup family student "
         "business office premium basic plus max mini pro ultra lite 5g 4g fixed voice data roaming").split()
BRANDS = ("Acme Zenith Nimbus Orbit Vertex Lumen Pulse Quanta Helix Nova").split()
COLOURS = ("black white silver blue red green gold graphite").split()
QUERIES = ("home secu", "brodband", "phone silver", "smart camera", "zenith", "premium tv sport", "wtch",
           "cloud backup family", "xyzzy")


def catalogue(n: int, seed: int = 15) -> tuple[list[dict], list[dict], list[dict]]:
    rnd = random.Random(seed)
    categories = [{"id": f"c{i}", "name": f"{rnd.choice(WORDS).title()} {rnd.choice(WORDS)}"} for i in range(60)]
    specs = [{"id": f"s{i}", "productSpecCharacteristic": [
        {"name": "brand", "productSpecCharacteristicValue": [{"value": rnd.choice(BRANDS)}]},
        {"name": "colour", "productSpecCharacteristicValue": [{"value": c} for c in rnd.sample(COLOURS, 3)]}]}
        for i in range(500)]
    channels = [{"id": c} for c in ("web", "app", "store")]
    offerings = [{"id": f"o{i}", "name": " ".join(rnd.sample(WORDS, 3)).title() + f" {i}",
                  "description": " ".join(rnd.choices(WORDS, k=12)), "lifecycleStatus": "active",
                  "category": [{"id": f"c{rnd.randrange(60)}"}], "productSpecification": {"id": f"s{rnd.randrange(500)}"},
                  "channel": channels if i % 5 else channels[:1]} for i in range(n)]
    return offerings, categories, specs


def calibration_ms() -> float:
    """A fixed pure-Python loop (1M dict reads; about 50-70 ms on an idle recent x86 core), printed
    with the figures: on a shared, loaded machine it says how much slower everything ran."""
    table_ = {i: i for i in range(1024)}
    started = time.perf_counter()
    for i in range(1_000_000):
        table_.get(i & 1023)
    return (time.perf_counter() - started) * 1000


def run() -> None:
    from chalicelib import tmf
    from chalicelib.catalog import domain, search

    kind = domain.kind("productOffering")
    rows = []
    for n in (1_000, 20_000):
        offerings, categories, specs = catalogue(n)
        tracemalloc.start()
        started = time.perf_counter()
        index = search.index_for(offerings, categories, specs)
        build_ms = (time.perf_counter() - started) * 1000
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        timings = []
        for _ in range(5):
            for q in QUERIES:
                started = time.perf_counter()
                at = tmf.now()
                visible = [d for d in offerings if domain.visible(kind, d, "store", at)]
                search.rank(visible, search.query_terms(q), search.index_for(offerings, categories, specs))
                timings.append((time.perf_counter() - started) * 1000)
        rank_only = []
        for q in QUERIES:
            started = time.perf_counter()
            search.rank(offerings, search.query_terms(q), index)
            rank_only.append((time.perf_counter() - started) * 1000)
        p95 = statistics.quantiles(timings, n=20)[18]
        rows.append((f"{n:,}", f"{len(index.vocabulary):,}", f"{build_ms:.0f}", f"{peak / 2**20:.1f}",
                     f"{statistics.median(timings):.1f}", f"{p95:.1f}", f"{max(rank_only):.1f}"))
    table(f"Catalogue keyword search, warm (index built), channel 'store', 9 queries x 5 "
          f"(calibration loop: {calibration_ms():.0f} ms)",
          ("offerings", "vocabulary", "index build ms", "index MiB (peak)", "search p50 ms", "search p95 ms",
           "ranking alone, max ms"), rows)
