"""Keyword search over the catalogue for channels (issue 15): `GET .../productOffering?q=home+secu`.

Prefix and typo tolerant, over an offering's name, description, category names and
characteristic values (its own prodSpecCharValueUse and its product specification's), ranked.
The caller's visibility rules (channel, lifecycle, validFor) and attribute filters decide which
offerings take part before anything is ranked; the ranked list is paged like every list.

Tokens come from rapidfuzz's `default_process` (lower case, punctuation and accents' marks
to spaces); a query term matches a catalogue token exactly, as its prefix ("secu" ->
"security"), or within a small edit distance (rapidfuzz's ratio over the whole vocabulary at once,
"secrity" -> "security"). An offering must match every term; its score adds, per term, the best
match's quality times the weight of the field it is in (name above category above
characteristics and description). Ties go by name.

The index (token -> offerings with their best field weight, and a sorted vocabulary for prefix
look-ups) is built once per version of the per-container catalogue cache (catalog/store.Cache)
and reused while the cache hands out the same lists.
"""
from __future__ import annotations

import bisect
import dataclasses
import threading
from typing import Any, Iterable, Mapping

from chalicelib.errors import bad_request

MAX_QUERY = 200          # characters
MAX_TERMS = 8
WEIGHTS = {"name": 4.0, "category": 2.0, "characteristic": 1.5, "description": 1.0}
EXACT, PREFIX, TYPO = 1.0, 0.85, 0.7   # match quality
MIN_PREFIX = 2                          # a term shorter than this matches whole tokens only
MIN_TYPO = 4                            # and shorter than this, no typos


def _process(text: str) -> str:
    from rapidfuzz.utils import default_process

    return default_process(text)


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


def _fields(offering: Mapping[str, Any], categories: Mapping[str, Mapping[str, Any]],
            specs: Mapping[str, Mapping[str, Any]]) -> Iterable[tuple[str, Any]]:
    yield "name", offering.get("name")
    yield "description", offering.get("description")
    for ref in offering.get("category") or []:
        yield "category", ref.get("name") or (categories.get(str(ref.get("id"))) or {}).get("name")
    uses = list(offering.get("prodSpecCharValueUse") or [])
    spec = specs.get(str((offering.get("productSpecification") or {}).get("id"))) or {}
    for char in [*uses, *(spec.get("productSpecCharacteristic") or [])]:
        for value in char.get("productSpecCharacteristicValue") or []:
            yield "characteristic", value.get("value")


@dataclasses.dataclass
class Index:
    postings: dict[str, dict[str, float]]    # token -> offering id -> best field weight
    vocabulary: list[str]                     # sorted

    def matches(self, term: str) -> dict[str, float]:
        """offering id -> the best score of `term` in it (quality x field weight)."""
        from rapidfuzz import fuzz, process

        found: dict[str, float] = {}

        def add(token: str, quality: float) -> None:
            for oid, weight in self.postings[token].items():
                found[oid] = max(found.get(oid, 0.0), quality * weight)

        if term in self.postings:
            add(term, EXACT)
        if len(term) >= MIN_PREFIX:
            at = bisect.bisect_left(self.vocabulary, term)
            while at < len(self.vocabulary) and self.vocabulary[at].startswith(term):
                if self.vocabulary[at] != term:
                    add(self.vocabulary[at], PREFIX)
                at += 1
        if len(term) >= MIN_TYPO:
            cutoff = 80 if len(term) >= 6 else 75
            for token, score, _ in process.extract(term, self.vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff,
                                                   limit=None):
                if token != term and not token.startswith(term):
                    add(token, TYPO * score / 100)
        return found


def build(offerings: Iterable[Mapping[str, Any]], categories: Iterable[Mapping[str, Any]],
          specs: Iterable[Mapping[str, Any]]) -> Index:
    by_id_cat = {c["id"]: c for c in categories}
    by_id_spec = {s["id"]: s for s in specs}
    postings: dict[str, dict[str, float]] = {}
    for offering in offerings:
        for field, text in _fields(offering, by_id_cat, by_id_spec):
            for token in tokens(text):
                held = postings.setdefault(token, {})
                held[offering["id"]] = max(held.get(offering["id"], 0.0), WEIGHTS[field])
    return Index(postings, sorted(postings))


_lock = threading.Lock()
_built: tuple[tuple[int, ...], Index] | None = None
_kept: tuple[Any, ...] = ()


def index_for(offerings: list[dict[str, Any]], categories: list[dict[str, Any]],
              specs: list[dict[str, Any]]) -> Index:
    """The index of these lists: built again only when the cache hands out other lists."""
    global _built, _kept
    key = (id(offerings), id(categories), id(specs))
    with _lock:
        if _built is not None and _built[0] == key and _kept[0] is offerings:
            return _built[1]
    index = build(offerings, categories, specs)
    with _lock:
        _built, _kept = (key, index), (offerings, categories, specs)   # kept alive: ids stay theirs
    return index


def rank(candidates: list[dict[str, Any]], terms: list[str], index: Index) -> list[dict[str, Any]]:
    """The candidates (already visible to the caller and filtered) that match every term, best first."""
    scores: dict[str, float] | None = None
    for term in terms:
        found = index.matches(term)
        scores = found if scores is None else {oid: s + found[oid] for oid, s in scores.items() if oid in found}
        if not scores:
            return []
    assert scores is not None
    hits = [d for d in candidates if d["id"] in scores]
    return sorted(hits, key=lambda d: (-scores[d["id"]], str(d.get("name") or ""), d["id"]))
