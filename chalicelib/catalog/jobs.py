"""importJob and exportJob: bring a partner's TMF620 export into the catalogue, or write one.

A job record is created by the API; the catalogue stream starts the catalog-jobs state machine
(named after the job, so a duplicate record starts nothing), whose task calls `run`.
An import is all or nothing at validation: every record is checked before any is written, and
writing is an upsert, so a retried job converges to the same catalogue.
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import tempfile
import urllib.parse
from typing import Any, Mapping, Sequence

from chalicelib import outbound, settings, tmf, workflows
from chalicelib.catalog import domain, store
from chalicelib.errors import ApiError, Unprocessable

MAX_IMPORT_BYTES = 20 * 1024 * 1024
DATA_DIR = pathlib.Path(__file__).resolve().parent / "data"
TYPE_TO_KIND = {k.type_name: k.name for k in domain.KINDS.values() if not k.is_job}


class TransientError(Exception):
    """A fault worth retrying (the state machine retries on this error name)."""


class JobInvalid(Exception):
    """The job cannot succeed as asked (bad source, invalid content)."""


def start(kind: str, job_id: str) -> None:
    workflows.start_once("catalog-jobs", f"{kind}-{job_id}", {"kind": kind, "jobId": job_id})


# --- sources and targets ----------------------------------------------------------------------
def _allowed_roots() -> list[pathlib.Path]:
    roots = [*settings.import_allowed_roots(), settings.export_dir(), str(DATA_DIR)]
    return [pathlib.Path(r).resolve() for r in roots]


def _within(path: pathlib.Path, root: pathlib.Path) -> bool:
    return path == root or root in path.parents


def _file_path(url: str) -> pathlib.Path:
    raw = url
    if url.startswith("file:"):
        parts = urllib.parse.urlparse(url)
        if parts.netloc not in ("", "localhost"):
            raise JobInvalid("a file URL must name a local path (file:///...)")
        raw = urllib.parse.unquote(parts.path)
    try:
        return pathlib.Path(raw).resolve()
    except (ValueError, OSError):
        raise JobInvalid("the file path is not valid") from None


def _local_path(url: str) -> pathlib.Path:
    path = _file_path(url)
    if not any(_within(path, root) for root in _allowed_roots()):
        raise JobInvalid("the file is outside the directories imports may read")
    return path


def read_source(url: str) -> bytes:
    """The export at `url`: http(s) through the outbound guard, or a file under an allowed root.
    Errors name the cause (refused address, HTTP status, unreachable), never what came back."""
    scheme = urllib.parse.urlparse(url).scheme.lower()
    if scheme in ("http", "https"):
        try:
            answer = outbound.request("GET", url, headers={"Accept": "application/json"}, timeout=30,
                                      redirects=settings.outbound_max_redirects(), max_bytes=MAX_IMPORT_BYTES)
        except outbound.Refused as exc:
            raise JobInvalid(f"the URL was refused: {exc.reason}") from None
        except outbound.Unreachable as exc:
            raise TransientError(f"the URL could not be read: {exc}") from None
        if answer.status >= 500 or answer.status == 429:
            raise TransientError(f"the URL answered HTTP {answer.status}")
        if answer.status != 200:
            raise JobInvalid(f"the URL answered HTTP {answer.status}")
        data = answer.body
    elif scheme in ("file", ""):
        path = _local_path(url)
        if not path.is_file():
            raise JobInvalid("the file does not exist")
        data = path.read_bytes()[: MAX_IMPORT_BYTES + 1]
    else:
        raise JobInvalid("the URL's scheme is not supported (use http, https or file)")
    if len(data) > MAX_IMPORT_BYTES:
        raise JobInvalid(f"the export is larger than {MAX_IMPORT_BYTES} bytes")
    return data


EXPORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.json$")
CODE_DIRS = (pathlib.Path(__file__).resolve().parents[1], pathlib.Path(__file__).resolve().parents[2] / "functions")


def export_target(job: Mapping[str, Any]) -> pathlib.Path:
    """Where an export is written: a new .json file directly in the export directory, never
    anywhere else (no other directory, no link out of it, never the application's code)."""
    root = pathlib.Path(settings.export_dir()).resolve()
    if any(_within(root, code) or _within(code, root) for code in CODE_DIRS):
        raise JobInvalid("the export directory is inside the application package; configure OMNISHOP_EXPORT_DIR")
    if not job.get("url"):
        return root / f"catalog-export-{job['id']}.json"
    url = job["url"]
    if not isinstance(url, str) or urllib.parse.urlparse(url).scheme.lower() not in ("file", ""):
        raise JobInvalid("an export is written to a file in the export directory (file:///...)")
    raw = urllib.parse.unquote(urllib.parse.urlparse(url).path) if url.startswith("file:") else url
    name = pathlib.PurePosixPath(raw).name
    target = _file_path(url)
    if not EXPORT_NAME.match(name) or target.parent != root or target.name != name:
        raise JobInvalid("an export is written to a .json file directly in the export directory")
    return target


# --- the work ---------------------------------------------------------------------------------
def parse_export(data: bytes) -> dict[str, list[dict[str, Any]]]:
    """A TMF620 export: {"productOffering": [...], ...} or a list of resources with @type."""
    try:
        payload = json.loads(data)
    except UnicodeDecodeError:
        raise JobInvalid("the export is not UTF-8 JSON") from None
    except RecursionError:
        raise JobInvalid("the export is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise JobInvalid(f"the export is not JSON (line {exc.lineno}, column {exc.colno})") from None
    grouped: dict[str, list[dict[str, Any]]] = {k: [] for k in domain.IMPORT_ORDER}
    if isinstance(payload, dict):
        for name, docs in payload.items():
            if name not in grouped or not isinstance(docs, list):
                raise JobInvalid(f"the export has a section that is not a list of {', '.join(grouped)}")
            grouped[name].extend(docs)
    elif isinstance(payload, list):
        for doc in payload:
            type_name = (doc.get("@baseType") or doc.get("@type")) if isinstance(doc, dict) else None
            kind = TYPE_TO_KIND.get(type_name) if isinstance(type_name, str) else None
            if kind is None:
                raise JobInvalid("every resource in the export needs a known @type")
            grouped[kind].append(doc)
    else:
        raise JobInvalid("the export must be a JSON object or list")
    return grouped


def map_categories(grouped: Mapping[str, list[Any]], mapping: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The export with its offerings put in our categories (an importJob's categoryMapping): a
    mapped partner category is replaced by ours; an offering left with no category gets the
    categories of the entries that name no partner category. Unmapped categories stay (federated:
    the export or the catalogue must hold them, as for any reference)."""
    if not mapping:
        return dict(grouped)
    renamed = {m["partnerCategoryId"]: m["category"] for m in mapping if m.get("partnerCategoryId")}
    default = [m["category"] for m in mapping if not m.get("partnerCategoryId")]
    offers = []
    for doc in grouped.get("productOffering", []):
        refs = doc.get("category") if isinstance(doc, dict) else None
        if isinstance(doc, dict) and (refs is None or isinstance(refs, list)):
            mapped = [renamed.get(ref.get("id"), ref) if isinstance(ref, dict) else ref for ref in refs or []] or default
            doc = {**doc, "category": list({_ref_key(ref): dict(ref) if isinstance(ref, dict) else ref
                                            for ref in mapped}.values())}
        offers.append(doc)
    return {**grouped, "productOffering": offers}


def _ref_key(ref: Any) -> str:
    return str(ref.get("id")) if isinstance(ref, dict) else json.dumps(ref, default=str)


def prepare_import(grouped: Mapping[str, list[dict[str, Any]]], at: str) -> tuple[list, list[str]]:
    """Validate everything first: (writes, errors). Nothing is written when errors is not empty."""
    writes, errors = [], []
    incoming = {(kind, d.get("id")) for kind, docs in grouped.items() for d in docs}
    for kind in domain.IMPORT_ORDER:
        k = domain.kind(kind)
        for i, raw in enumerate(grouped.get(kind, [])):
            rid = raw.get("id") if isinstance(raw, dict) else None
            if not isinstance(rid, str) or not rid:
                errors.append(f"{kind}[{i}]: id is mandatory in an import")
                continue
            doc = {**raw, "id": rid, "href": tmf.href(domain.API_ROOT, kind, rid),
                   "@type": raw.get("@type", k.type_name), "lastUpdate": at}
            doc.setdefault("lifecycleStatus", "inDesign")
            try:
                domain.validate(k, doc)
                for ref_kind, ref_id, where in domain.references(k, doc):
                    if (ref_kind, ref_id) not in incoming and store.load(ref_kind, ref_id) is None:
                        raise Unprocessable(f"{where} refers to unknown {ref_kind} {ref_id}")
            except ApiError as exc:
                errors.append(f"{kind} {rid}: {exc.message}")
                continue
            writes.append((kind, doc))
    return writes, errors


def _finish(kind: str, job_id: str, **changes: Any) -> dict[str, Any]:
    found = store.load(kind, job_id)
    if found is None:
        raise JobInvalid(f"{kind} {job_id} no longer exists")
    doc, version = found
    doc = {**doc, **changes, "lastUpdate": tmf.now_iso()}
    store.replace(kind, doc, version)
    return doc


def run(kind: str, job_id: str) -> dict[str, Any]:
    found = store.load(kind, job_id)
    if found is None:
        return {"jobId": job_id, "status": "gone"}
    job = found[0]
    tmf.use_base_of(job["href"], domain.API_ROOT)
    if job.get("status") in ("Succeeded", "Failed"):
        return {"jobId": job_id, "status": job["status"]}  # a retried task: already done
    _finish(kind, job_id, status="Running")
    try:
        if kind == "importJob":
            export = map_categories(parse_export(read_source(job["url"])), job.get("categoryMapping") or [])
            writes, errors = prepare_import(export, tmf.now_iso())
            if errors:
                raise JobInvalid("; ".join(errors[:50]))
            for res_kind, doc in writes:
                store.upsert(res_kind, doc)
            done = _finish(kind, job_id, status="Succeeded", completionDate=tmf.now_iso(),
                           errorLog=f"imported {len(writes)} resources")
        else:
            target = export_target(job)
            target.parent.mkdir(parents=True, exist_ok=True)
            filters = tmf.attribute_filters(dict(urllib.parse.parse_qsl(job.get("query") or "")))
            export = {k: [d for d in store.query_kind(k) if tmf.matches(d, filters)] for k in domain.IMPORT_ORDER}
            with tempfile.NamedTemporaryFile("w", dir=target.parent, suffix=".tmp", delete=False) as tmp:
                json.dump(export, tmp, indent=1)  # a new file (O_EXCL): never through a planted link
            os.replace(tmp.name, target)
            done = _finish(kind, job_id, status="Succeeded", completionDate=tmf.now_iso(),
                           url=target.as_uri(), contentType="application/json")
    except JobInvalid as exc:
        done = _finish(kind, job_id, status="Failed", completionDate=tmf.now_iso(), errorLog=str(exc))
    return {"jobId": job_id, "status": done["status"]}


def failure_cause(error: Any) -> str:
    """What the errorLog says of a failure the state machine caught: the message of our own
    TransientError (written to be shown), never another error's text or a stack trace."""
    try:
        cause = json.loads(error.get("Cause") or "{}") if isinstance(error, dict) else {}
    except (TypeError, ValueError):
        cause = {}
    if isinstance(cause, dict) and cause.get("errorType") == TransientError.__name__:
        return str(cause.get("errorMessage") or "")[:500]
    return "an internal error (the catalog-jobs function's log has the details)"


def mark_failed(kind: str, job_id: str, error: Any) -> dict[str, Any]:
    if store.load(kind, job_id) is None:
        return {"jobId": job_id, "status": "gone"}
    done = _finish(kind, job_id, status="Failed", completionDate=tmf.now_iso(),
                   errorLog=f"the job could not be completed: {failure_cause(error)}"[:2000])
    return {"jobId": job_id, "status": done["status"]}


def sweep(at: Any = None) -> list[str]:
    """Retire published catalogue entities whose validFor has ended. Safe to run twice."""
    at = at or tmf.now()
    retired = []
    for kind in domain.IMPORT_ORDER:
        k = domain.kind(kind)
        for doc in store.query_kind(kind):
            if not domain.expired_but_published(k, doc, at):
                continue
            found = store.load(kind, doc["id"])
            if found is None or not domain.expired_but_published(k, found[0], at):
                continue
            try:
                store.replace(kind, {**found[0], "lifecycleStatus": "retired", "lastUpdate": tmf.now_iso()}, found[1])
                retired.append(f"{kind}/{doc['id']}")
            except store.StaleVersion:
                continue  # changed meanwhile; the next sweep looks again
    return retired
