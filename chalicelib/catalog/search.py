"""Keyword search and facets over the catalogue for channels (issue 15):
`GET .../productOffering?q=home+secu&facets=category,priceRange`.

Prefix, stem and typo tolerant, over an offering's name, description, category names and
characteristic values (its own prodSpecCharValueUse and its product specification's), ranked.
The caller's visibility rules (channel, lifecycle, validFor) and attribute filters decide which
offerings take part: nothing the caller may not see is ranked, counted or paged.

Tokens come from rapidfuzz's `default_process` (lower case, punctuation and accents' marks
to spaces); a query term matches a catalogue token exactly, by its Snowball stem ("routers" ->
"router"), as its prefix ("secu" -> "security"), or within a small edit distance (rapidfuzz over
the distinct tokens, never over documents: "secrity" -> "security"). An offering must match
every term; its score adds, per term, the best match's quality times the weight of the field it
is in (name above category above characteristics and description). Ties go by name.

The index (token -> offering positions with their best field weight, stem -> the same, a sorted
vocabulary for prefix look-ups, each offering's facet values) is built once per version of the
per-container catalogue cache (catalog/store.Cache) and kept while the cache hands out the same
lists; so is, per channel, the set of offerings the channel sees, until the next validFor edge.

Facets (our additive extension; TMF has none) are counted over the whole visible, filtered,
matched result set; how they are answered is in docs/decisions.md (Session 7, search). Price
bands are of the prices the searcher would pay (basket.pricing.prices_for: her channel and market
segment; no segment, an anonymous visitor: general prices), kept per channel and segment.
"""
from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import functools
import threading
from typing import Any, Callable, Iterable, Mapping

from chalicelib.view import ref_id
from chalicelib.errors import bad_request

MAX_QUERY = 200          # characters
MAX_TERMS = 8
WEIGHTS = {"name": 4.0, "category": 2.0, "characteristic": 1.5, "description": 1.0}
EXACT, STEM, PREFIX, TYPO = 1.0, 0.95, 0.85, 0.7   # match quality
MIN_PREFIX = 2                          # a term shorter than this matches whole tokens only
MIN_TYPO = 4                            # and shorter than this, no typos

# Facets a list may ask for (`facets=category,brand`), and the route parameters that filter by
# the values of those that are no attribute of an offering (the others use TMF filters).
FACETS = ("category", "priceRange", "contractTerm", "stack", "brand", "colour")
FACET_FILTERS = ("priceRange", "stack", "brand", "colour")
# `customer=`: an agent searching for a customer (priceRange in that customer's segment's prices)
ROUTE_PARAMS = ("q", "facets", *FACET_FILTERS, "customer")
BANDS = (10, 20, 50, 100, 250, 500)     # EUR: priceRange "0-10", "10-20", ... "500+"
COLOUR_NAMES = ("colour", "color")


def _process(text: str) -> str:
    from rapidfuzz.utils import default_process

    return default_process(text)


@functools.cache
def _stemmer() -> Any:
    import snowballstemmer  # type: ignore[import-untyped]  # no stubs, no py.typed

    return snowballstemmer.stemmer("english")


def stem(token: str) -> str | None:
    """The Snowball (English) stem of a word; None for tokens with digits ("5g", "500")."""
    return _stemmer().stemWord(token) if token.isalpha() else None


def tokens(text: Any) -> list[str]:
    return _process(str(text)).split() if text not in (None, "") else []


def query_terms(raw: str | None) -> list[str]:
    """The terms of `q` (400: blank, too long, too many terms, nothing to search for)."""
    if raw is None or not raw.strip():
        raise bad_request("q must name something to search for, e.g. q=home+security")
    if len(raw) > MAX_QUERY:
        raise bad_request(f"q is {len(raw)} characters long; at most {MAX_QUERY}")
    words = tokens(raw)
    if not words:
        raise bad_request(f"q {raw[:40]!r} has no letters or digits to search for")
    if len(words) > MAX_TERMS:
        raise bad_request(f"q has {len(words)} words; at most {MAX_TERMS}")
    return list(dict.fromkeys(words))


@dataclasses.dataclass(frozen=True)
class Ask:
    """What a productOffering list asks of this module: terms, facets, facet-value filters."""
    terms: list[str] | None = None
    facets: tuple[str, ...] = ()
    wanted: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.terms is not None or bool(self.facets) or bool(self.wanted)


def ask(params: Mapping[str, str]) -> Ask:
    """The search part of a list request (400 for a bad q, an unknown facet, an empty value)."""
    terms = query_terms(params["q"]) if "q" in params else None
    facets: tuple[str, ...] = ()
    if "facets" in params:
        facets = tuple(dict.fromkeys(f.strip() for f in params["facets"].split(",")))
        unknown = [f for f in facets if f not in FACETS]
        if unknown or not facets:
            raise bad_request(f"facets may name {', '.join(FACETS)}; not {', '.join(repr(u[:40]) for u in unknown)}",
                              "unknownFacet")
    wanted = {}
    for name in FACET_FILTERS:
        if name in params:
            values = frozenset(v.strip().casefold() for v in params[name].split(",") if v.strip())
            if not values or len(params[name]) > MAX_QUERY:
                raise bad_request(f"{name} must name one or more values (comma-separated), at most "
                                  f"{MAX_QUERY} characters")
            wanted[name] = values
    return Ask(terms, facets, wanted)


def band(value: float) -> str:
    low = 0
    for high in BANDS:
        if value < high:
            return f"{low}-{high}"
        low = high
    return f"{low}+"


def _fields(offering: Mapping[str, Any], categories: Mapping[str, Mapping[str, Any]],
            spec: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    yield "name", offering.get("name")
    yield "description", offering.get("description")
    for ref in offering.get("category") or []:
        yield "category", ref.get("name") or (categories.get(str(ref.get("id"))) or {}).get("name")
    for char in _characteristics(offering, spec):
        for value in char.get("productSpecCharacteristicValue") or []:
            yield "characteristic", value.get("value")


def _characteristics(offering: Mapping[str, Any], spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [*(offering.get("prodSpecCharValueUse") or []), *(spec.get("productSpecCharacteristic") or [])]


def _facet_values(offering: Mapping[str, Any], spec: Mapping[str, Any],
                  labels: dict[tuple[str, str], str]) -> dict[str, tuple[str, ...]]:
    """category ids, contract terms, stack, brand and colour of an offering (keys; labels beside)."""
    from chalicelib.catalog.domain import fulfilment_stack

    def keyed(facet: str, raw: Any, label: Any = None) -> str:
        key = str(raw).casefold() if facet in ("brand", "colour") else str(raw)
        labels.setdefault((facet, key), str(label if label is not None else raw))
        return key

    out: dict[str, list[str]] = {f: [] for f in FACETS if f != "priceRange"}
    for ref in offering.get("category") or []:
        out["category"].append(keyed("category", ref.get("id"), ref.get("name") or ref.get("id")))
    for term in offering.get("productOfferingTerm") or []:
        duration = term.get("duration") or {}
        if duration.get("amount") is not None:
            label = f"{duration['amount']} {duration.get('units', 'month')}{'s' if duration['amount'] != 1 else ''}"
            out["contractTerm"].append(keyed("contractTerm", duration["amount"], label))
    stack = fulfilment_stack(spec) if spec else None
    if stack:
        out["stack"].append(keyed("stack", stack))
    if spec.get("brand"):
        out["brand"].append(keyed("brand", spec["brand"]))
    for char in _characteristics(offering, spec):
        facet = "brand" if char.get("name") == "brand" else "colour" if char.get("name") in COLOUR_NAMES else None
        if facet is None:
            continue
        for value in char.get("productSpecCharacteristicValue") or []:
            if value.get("value") not in (None, ""):
                out[facet].append(keyed(facet, value["value"]))
    return {f: tuple(dict.fromkeys(v)) for f, v in out.items() if v}


class Index:
    """The search index of one version of the cached catalogue (see the module's docstring)."""

    def __init__(self, offerings: list[dict[str, Any]], categories: Iterable[Mapping[str, Any]],
                 specs: Iterable[Mapping[str, Any]], prices: Iterable[Mapping[str, Any]] = ()) -> None:
        by_id_cat = {c["id"]: c for c in categories}
        by_id_spec = {s["id"]: s for s in specs}
        self.docs = offerings
        self.prices = {p["id"]: p for p in prices}
        self.postings: dict[str, dict[int, float]] = {}      # token -> position -> best field weight
        self.labels: dict[tuple[str, str], str] = {}
        self.members: dict[str, dict[str, set[int]]] = {f: {} for f in FACETS}   # facet -> key -> positions
        for at, offering in enumerate(offerings):
            spec = by_id_spec.get(str(ref_id(offering, "productSpecification"))) or {}
            for field, text in _fields(offering, by_id_cat, spec):
                for token in tokens(text):
                    held = self.postings.setdefault(token, {})
                    held[at] = max(held.get(at, 0.0), WEIGHTS[field])
            for facet, keys in _facet_values(offering, spec, self.labels).items():
                for key in keys:
                    self.members[facet].setdefault(key, set()).add(at)
        for facet, key in list(self.labels):
            if facet == "category" and key in by_id_cat:
                self.labels[facet, key] = str(by_id_cat[key].get("name") or key)
        self.vocabulary = sorted(self.postings)
        self.stems: dict[str, dict[int, float]] = {}
        for token, held in self.postings.items():
            root = stem(token)
            if root is not None:
                merged = self.stems.setdefault(root, {})
                for at, weight in held.items():
                    merged[at] = max(merged.get(at, 0.0), weight)
        ranked = sorted(range(len(offerings)), key=lambda i: (str(offerings[i].get("name") or ""), offerings[i]["id"]))
        self.order = [0] * len(offerings)
        for place, at in enumerate(ranked):
            self.order[at] = place
        self._lock = threading.Lock()
        self._seen: dict[Any, tuple[dt.datetime | None, dt.datetime | None, frozenset[int]]] = {}
        self._bands: dict[tuple[str | None, str | None], dict[str, set[int]]] = {}
        self._where: dict[str, int] | None = None

    # --- matching -------------------------------------------------------------------------------
    def matches(self, term: str) -> dict[int, float]:
        """offering position -> the best score of `term` in it (quality x field weight)."""
        from rapidfuzz import fuzz, process

        found: dict[int, float] = {}

        def add(held: dict[int, float], quality: float) -> None:
            for at, weight in held.items():
                score = quality * weight
                if found.get(at, 0.0) < score:
                    found[at] = score

        if term in self.postings:
            add(self.postings[term], EXACT)
        root = stem(term)
        if root is not None and root in self.stems:
            add(self.stems[root], STEM)
        if len(term) >= MIN_PREFIX:
            at = bisect.bisect_left(self.vocabulary, term)
            while at < len(self.vocabulary) and self.vocabulary[at].startswith(term):
                if self.vocabulary[at] != term:
                    add(self.postings[self.vocabulary[at]], PREFIX)
                at += 1
        if len(term) >= MIN_TYPO:
            cutoff = 80 if len(term) >= 6 else 75
            for token, score, _ in process.extract(term, self.vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff,
                                                   limit=None):
                if token != term and not token.startswith(term):
                    add(self.postings[token], TYPO * score / 100)
        return found

    def scores(self, terms: list[str]) -> dict[int, float]:
        """position -> score of the offerings that match every term."""
        scores: dict[int, float] | None = None
        for term in terms:
            found = self.matches(term)
            scores = found if scores is None else {at: s + found[at] for at, s in scores.items() if at in found}
            if not scores:
                return {}
        return scores or {}

    # --- who sees what, kept per channel until the next validFor edge ----------------------------
    @functools.cached_property
    def edges(self) -> list[dt.datetime]:
        from chalicelib.catalog.domain import period_edges

        return sorted({edge for doc in self.docs for edge in period_edges(doc)})

    def visible(self, channel: str | None, at: dt.datetime, test: Callable[[Mapping[str, Any]], bool]) -> frozenset[int]:
        """The positions `test` (the caller's visibility at `at`) lets through. Kept for the channel
        while `at` stays between the same two validFor edges, where no answer of `test` can change."""
        with self._lock:
            kept = self._seen.get(channel)
        if kept is not None and (kept[0] is None or kept[0] <= at) and (kept[1] is None or at < kept[1]):
            return kept[2]
        i = bisect.bisect_right(self.edges, at)
        low, high = (self.edges[i - 1] if i else None), (self.edges[i] if i < len(self.edges) else None)
        seen = frozenset(p for p, doc in enumerate(self.docs) if test(doc))
        with self._lock:
            self._seen[channel] = (low, high, seen)
        return seen

    # --- one request --------------------------------------------------------------------------
    def select(self, asked: Ask, allowed: frozenset[int] | None, keep: Callable[[Mapping[str, Any]], bool] | None,
               channel: str | None, segment: str | None = None) -> list[int]:
        """The positions of the offerings that are allowed (visible), kept (attribute filters), have
        the wanted facet values and match every term: best first with terms, in catalogue order without.
        Price bands are of the prices in `channel` for `segment` (None: general prices)."""
        scores = self.scores(asked.terms) if asked.terms is not None else None
        narrowed: set[int] | frozenset[int] | None = allowed
        for facet, values in asked.wanted.items():
            members = self._members(facet, channel, segment)
            having = set().union(*(held for key, held in members.items() if key.casefold() in values))
            narrowed = having if narrowed is None else having & narrowed
        if scores is not None:
            found: Iterable[int] = scores if narrowed is None else (p for p in scores if p in narrowed)
        else:
            found = range(len(self.docs)) if narrowed is None else sorted(narrowed)
        positions = [p for p in found if keep is None or keep(self.docs[p])]
        if scores is not None:
            positions.sort(key=lambda p: (-scores[p], self.order[p]))
        return positions

    def facets(self, positions: list[int], names: Iterable[str], channel: str | None,
               segment: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """Counts per facet value over `positions` (the whole result set, not one page), each with
        the filter that narrows a list to it, biggest first (price bands and terms in their order;
        the bands of the prices in `channel` for `segment`)."""
        hits = set(positions)
        out: dict[str, list[dict[str, Any]]] = {}
        for facet in names:
            counts = {key: len(hits & held) for key, held in self._members(facet, channel, segment).items()}
            out[facet] = [self._bucket(facet, key, n)
                          for key, n in sorted(counts.items(), key=_facet_order(facet)) if n]
        return out

    def _members(self, facet: str, channel: str | None, segment: str | None) -> dict[str, set[int]]:
        return self._price_bands(channel, segment) if facet == "priceRange" else self.members[facet]

    def _bucket(self, facet: str, key: str, count: int) -> dict[str, Any]:
        value = self.labels.get((facet, key), key)
        if facet == "category":
            return {"value": key, "name": value, "count": count, "filter": f"category.id={key}"}
        if facet == "contractTerm":
            return {"value": key, "name": value, "count": count, "filter": f"productOfferingTerm.duration.amount={key}"}
        return {"value": value, "count": count, "filter": f"{facet}={value}"}

    def _price_bands(self, channel: str | None, segment: str | None) -> dict[str, set[int]]:
        """band -> positions of the offerings whose headline price in `channel` for a customer of
        `segment` is in it (the lowest recurring price there, else the lowest one-off price; chosen
        as baskets choose channel and segment prices)."""
        with self._lock:
            kept = self._bands.get((channel, segment))
        if kept is None:
            kept = {}
            for at, doc in enumerate(self.docs):
                found = self._headline_band(doc, channel, segment)
                if found is not None:
                    kept.setdefault(found, set()).add(at)
            with self._lock:
                self._bands[channel, segment] = kept
        return kept

    def _headline_band(self, offering: Mapping[str, Any], channel: str | None, segment: str | None) -> str | None:
        from chalicelib.basket.pricing import prices_for

        prices = [p for p in prices_for(offering, self, channel, segment)
                  if p.get("priceType") in ("recurring", "oneTime") and (p.get("price") or {}).get("value") is not None]
        for price_type in ("recurring", "oneTime"):
            values = [float(p["price"]["value"]) for p in prices if p.get("priceType") == price_type]
            if values:
                return band(min(values))
        return None

    def price(self, pid: str) -> Mapping[str, Any] | None:      # basket.pricing.Catalogue
        return self.prices.get(pid)

    def offering(self, oid: str) -> Mapping[str, Any] | None:   # basket.pricing.Catalogue
        at = self.positions().get(oid)
        return None if at is None else self.docs[at]

    def positions(self) -> dict[str, int]:
        with self._lock:
            if self._where is None:
                self._where = {d["id"]: p for p, d in enumerate(self.docs)}
            return self._where


def _facet_order(facet: str) -> Callable[[tuple[str, int]], Any]:
    if facet == "priceRange":
        return lambda item: float(item[0].split("-")[0].rstrip("+"))
    if facet == "contractTerm":
        return lambda item: float(item[0])
    return lambda item: (-item[1], item[0])


def build(offerings: list[dict[str, Any]], categories: Iterable[Mapping[str, Any]],
          specs: Iterable[Mapping[str, Any]], prices: Iterable[Mapping[str, Any]] = ()) -> Index:
    return Index(offerings, categories, specs, prices)


_lock = threading.Lock()
_built: tuple[tuple[int, ...], Index] | None = None
_kept: tuple[Any, ...] = ()


def index_for(offerings: list[dict[str, Any]], categories: list[dict[str, Any]],
              specs: list[dict[str, Any]], prices: list[dict[str, Any]] | None = None) -> Index:
    """The index of these lists: built again only when the cache hands out other lists."""
    global _built, _kept
    lists = (offerings, categories, specs, prices if prices is not None else [])
    key = tuple(id(x) for x in lists)
    with _lock:
        if _built is not None and _built[0] == key and all(a is b for a, b in zip(_kept, lists)):
            return _built[1]
    index = build(*lists)
    with _lock:
        _built, _kept = (key, index), lists   # kept alive: ids stay theirs
    return index


def rank(candidates: list[dict[str, Any]], terms: list[str], index: Index) -> list[dict[str, Any]]:
    """The candidates that match every term, best first (the index's own offerings or some of them)."""
    scores = index.scores(terms)
    where = index.positions()
    hits = [(scores[where[d["id"]]], d) for d in candidates if where.get(d["id"]) in scores]
    hits.sort(key=lambda sd: (-sd[0], index.order[where[sd[1]["id"]]]))
    return [d for _, d in hits]
