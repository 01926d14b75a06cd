"""Catalogue keyword search and facets (chalicelib/catalog/search.py) at 1,000 and 20,000
offerings, in process over plain documents (no AWS): index build time and memory (peak while
building, traced), and the time of a warm channel request as service.search makes it (the
channel's kept visible set, match and rank, one page), p50 and p95; with the six facets counted;
and a browse of every visible offering with the six facets."""
from __future__ import annotations

import random
import statistics
import time
import tracemalloc
from typing import Callable

from bench.harness import table

WORDS = ("fibre broadband mobile unlimited phone tablet watch router mesh wifi security camera alarm doorbell "
         "sensor smart home tv sport cinema kids music streaming gaming cloud storage backup family student "
         "business office premium basic plus max mini pro ultra lite 5g 4g fixed voice data roaming").split()
BRANDS = ("Acme Zenith Nimbus Orbit Vertex Lumen Pulse Quanta Helix Nova").split()
STACKS = ("csp-stack-a", "csp-stack-b", "iot-partner-x")
COLOURS = ("black white silver blue red green gold graphite").split()
QUERIES = ("home secu", "brodband", "phone silver", "smart camera", "zenith", "premium tv sport", "wtch",
           "cloud backup family", "xyzzy")


def catalogue(n: int, seed: int = 15) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """n offerings over 60 categories, 500 specifications (brand, colours, stack), 1,000 prices
    (some for the web only), 12/24-month terms; one in ten has a validFor window."""
    rnd = random.Random(seed)
    categories = [{"id": f"c{i}", "name": f"{rnd.choice(WORDS).title()} {rnd.choice(WORDS)}"} for i in range(60)]
    specs = [{"id": f"s{i}", "relatedParty": [{"id": rnd.choice(STACKS), "role": "fulfilmentStack"}],
              "productSpecCharacteristic": [
        {"name": "brand", "productSpecCharacteristicValue": [{"value": rnd.choice(BRANDS)}]},
        {"name": "colour", "productSpecCharacteristicValue": [{"value": c} for c in rnd.sample(COLOURS, 3)]}]}
        for i in range(500)]
    prices = [{"id": f"p{i}", "priceType": "recurring" if i % 3 else "oneTime",
               "price": {"unit": "EUR", "value": round(rnd.uniform(5, 700), 2)},
               **({"channel": [{"id": "web"}]} if i % 7 == 0 else {})} for i in range(1000)]
    channels = [{"id": c} for c in ("web", "app", "store")]
    window = {"startDateTime": "2020-01-01T00:00:00Z", "endDateTime": "2099-01-01T00:00:00Z"}
    offerings = [{"id": f"o{i}", "name": " ".join(rnd.sample(WORDS, 3)).title() + f" {i}",
                  "description": " ".join(rnd.choices(WORDS, k=12)), "lifecycleStatus": "active",
                  "category": [{"id": f"c{rnd.randrange(60)}"}], "productSpecification": {"id": f"s{rnd.randrange(500)}"},
                  "productOfferingPrice": [{"id": f"p{rnd.randrange(1000)}"} for _ in range(2)],
                  "productOfferingTerm": [{"duration": {"amount": rnd.choice((12, 24)), "units": "month"}}],
                  "channel": channels if i % 5 else channels[:1], **({"validFor": window} if i % 10 == 0 else {})}
                 for i in range(n)]
    return offerings, categories, specs, prices


def calibration_ms() -> float:
    """A fixed pure-Python loop (1M dict reads; about 50-70 ms on an idle recent x86 core), printed
    with the figures: on a shared, loaded machine it says how much slower everything ran."""
    table_ = {i: i for i in range(1024)}
    started = time.perf_counter()
    for i in range(1_000_000):
        table_.get(i & 1023)
    return (time.perf_counter() - started) * 1000


def _timed(fn: Callable[[], object], rounds: int = 5) -> list[float]:
    out = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def run() -> None:
    from chalicelib import tmf
    from chalicelib.catalog import domain, search

    kind = domain.kind("productOffering")
    rows = []
    for n in (1_000, 20_000):
        offerings, categories, specs, prices = catalogue(n)
        search.build(offerings[:10], categories, specs, prices)    # imports (rapidfuzz, the stemmer) done
        started = time.perf_counter()
        index = search.index_for(offerings, categories, specs, prices)
        build_ms = (time.perf_counter() - started) * 1000
        tracemalloc.start()          # a second build, traced (tracing slows it down): its memory
        search.build(offerings, categories, specs, prices)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        def channel_search(asked: search.Ask) -> list:
            # what service.search does for a channel: the (kept) visible set, then select and page
            at = tmf.now()
            cached = search.index_for(offerings, categories, specs, prices)
            seen = cached.visible("store", at, lambda d: domain.visible(kind, d, "store", at))
            found = cached.select(asked, seen, None, "store")
            if asked.facets:
                cached.facets(found, asked.facets, "store")
            return tmf.page([cached.docs[p] for p in found], 0, 20)[0]

        channel_search(search.Ask(facets=search.FACETS))    # warm: visible set and price bands kept
        timings = [t for q in QUERIES for t in _timed(lambda: channel_search(search.Ask(search.query_terms(q))))]
        faceted = [t for q in QUERIES[:4] for t in _timed(
            lambda: channel_search(search.Ask(search.query_terms(q), search.FACETS)))]
        browse = _timed(lambda: channel_search(search.Ask(facets=search.FACETS)))
        p95 = statistics.quantiles(timings, n=20)[18]
        rows.append((f"{n:,}", f"{len(index.vocabulary):,}", f"{build_ms:.0f}", f"{peak / 2**20:.1f}",
                     f"{statistics.median(timings):.1f}", f"{p95:.1f}",
                     f"{statistics.quantiles(faceted, n=20)[18]:.1f}", f"{max(browse):.1f}"))
    table(f"Catalogue keyword search, warm (index built), channel 'store', {len(QUERIES)} queries x 5 "
          f"(calibration loop: {calibration_ms():.0f} ms)",
          ("offerings", "vocabulary", "index build ms", "index MiB (peak)", "search p50 ms", "search p95 ms",
           "q + 6 facets p95 ms", "browse all + 6 facets, max ms"), rows)
