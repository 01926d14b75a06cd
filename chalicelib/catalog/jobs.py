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
import urllib.parse
import urllib.request
from typing import Any, Mapping

from chalicelib import settings, tmf, workflows
from chalicelib.catalog import domain, store
from chalicelib.errors import ApiError

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


def _local_path(url: str) -> pathlib.Path:
    path = pathlib.Path(urllib.parse.urlparse(url).path if url.startswith("file:") else url).resolve()
    if not any(path == root or root in path.parents for root in _allowed_roots()):
        raise JobInvalid(f"{path} is outside the directories imports may read")
    return path


def read_source(url: str) -> bytes:
    scheme = urllib.parse.urlparse(url).scheme
    if scheme in ("http", "https"):
        try:
            with urllib.request.urlopen(url, timeout=30) as resp:
                data = resp.read(MAX_IMPORT_BYTES + 1)
        except urllib.error.HTTPError as exc:
            if exc.code >= 500:
                raise TransientError(f"{url} answered {exc.code}") from None
            raise JobInvalid(f"{url} answered {exc.code}") from None
        except OSError as exc:
            raise TransientError(f"{url} could not be read: {exc}") from None
    elif scheme in ("file", ""):
        path = _local_path(url)
        if not path.is_file():
            raise JobInvalid(f"{path} does not exist")
        data = path.read_bytes()[: MAX_IMPORT_BYTES + 1]
    else:
        raise JobInvalid(f"url scheme {scheme!r} is not supported (use http, https or file)")
    if len(data) > MAX_IMPORT_BYTES:
        raise JobInvalid(f"the export is larger than {MAX_IMPORT_BYTES} bytes")
    return data


def export_target(job: Mapping[str, Any]) -> pathlib.Path:
    if job.get("url"):
        return _local_path(job["url"])
    return pathlib.Path(settings.export_dir()).resolve() / f"catalog-export-{job['id']}.json"


# --- the work ---------------------------------------------------------------------------------
def parse_export(data: bytes) -> dict[str, list[dict[str, Any]]]:
    """A TMF620 export: {"productOffering": [...], ...} or a list of resources with @type."""
    try:
        payload = json.loads(data)
    except ValueError as exc:
        raise JobInvalid(f"the export is not JSON: {exc}") from None
    grouped: dict[str, list[dict[str, Any]]] = {k: [] for k in domain.IMPORT_ORDER}
    if isinstance(payload, dict):
        for name, docs in payload.items():
            if name not in grouped or not isinstance(docs, list):
                raise JobInvalid(f"unexpected section {name!r} in the export")
            grouped[name].extend(docs)
    elif isinstance(payload, list):
        for doc in payload:
            kind = TYPE_TO_KIND.get(doc.get("@baseType") or doc.get("@type")) if isinstance(doc, dict) else None
            if kind is None:
                raise JobInvalid("every resource in the export needs a known @type")
            grouped[kind].append(doc)
    else:
        raise JobInvalid("the export must be a JSON object or list")
    return grouped


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
                        raise ApiError(422, "", f"{where} refers to unknown {ref_kind} {ref_id}")
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
    if job.get("status") in ("succeeded", "failed"):
        return {"jobId": job_id, "status": job["status"]}  # a retried task: already done
    _finish(kind, job_id, status="running")
    try:
        if kind == "importJob":
            writes, errors = prepare_import(parse_export(read_source(job["url"])), tmf.now_iso())
            if errors:
                raise JobInvalid("; ".join(errors[:50]))
            for res_kind, doc in writes:
                store.upsert(res_kind, doc)
            done = _finish(kind, job_id, status="succeeded", completionDate=tmf.now_iso(),
                           errorLog=f"imported {len(writes)} resources")
        else:
            target = export_target(job)
            target.parent.mkdir(parents=True, exist_ok=True)
            filters = tmf.attribute_filters(dict(urllib.parse.parse_qsl(job.get("query") or "")))
            export = {k: [d for d in store.query_kind(k) if tmf.matches(d, filters)] for k in domain.IMPORT_ORDER}
            tmp = target.with_suffix(".tmp")
            tmp.write_text(json.dumps(export, indent=1))
            os.replace(tmp, target)
            done = _finish(kind, job_id, status="succeeded", completionDate=tmf.now_iso(),
                           url=target.as_uri(), contentType="application/json")
    except JobInvalid as exc:
        done = _finish(kind, job_id, status="failed", completionDate=tmf.now_iso(), errorLog=str(exc))
    return {"jobId": job_id, "status": done["status"]}


def mark_failed(kind: str, job_id: str, error: Any) -> dict[str, Any]:
    if store.load(kind, job_id) is None:
        return {"jobId": job_id, "status": "gone"}
    cause = error.get("Cause") if isinstance(error, dict) else str(error)
    done = _finish(kind, job_id, status="failed", completionDate=tmf.now_iso(),
                   errorLog=f"the job could not be completed: {cause}"[:2000])
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
