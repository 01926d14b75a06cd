"""TMF679 productOfferingQualification v4 routes, the rules-as-data admin API and guided selling.
Thin: parse, call the service, shape the reply.

  POST /productOfferingQualification        instant qualification (201, state done), kept until it expires
  GET  /productOfferingQualification[/{id}]  answers given (agents: all; a customer: theirs; a channel: by id)
  GET|POST /qualificationRule, GET|PATCH|DELETE /qualificationRule/{id}   (catalog-admin writes)
  GET  /guidedSelling/{offeringId}          a handset's compatible plans, then its accessories
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import deferred, tmf
from chalicelib.http import AuthenticatedCall, Reply, created, endpoint, listing, no_content, with_etag

# imported by the first request that uses it (a cold start loads only what it serves)
if TYPE_CHECKING:   # mypy reads the module and checks the calls into it
    from chalicelib.rules import service
else:
    service = deferred.module("chalicelib.rules.service")

bp = Blueprint(__name__)
# The domain's RULE_KIND, spelled here so that registering the routes loads no domain
# (tests/unit/test_entry_imports.py checks they are the same)
RULE_KIND = "qualificationRule"
RULES = f"/{RULE_KIND}"


@endpoint(bp, "/productOfferingQualification", ["POST"], name="create_product_offering_qualification",
          body="ProductOfferingQualification")
def qualify(call: AuthenticatedCall) -> Reply:
    return created(service.qualification(call.json(), call.caller, call.source_ip))


@endpoint(bp, "/productOfferingQualification", ["GET"], name="list_product_offering_qualification")
def list_qualifications(call: AuthenticatedCall) -> Reply:
    items, total = service.search_qualifications(call.query, call.caller)
    return listing(items, total)


@endpoint(bp, "/productOfferingQualification/{qid}", ["GET"], name="get_product_offering_qualification")
def get_qualification(call: AuthenticatedCall, qid: str) -> Reply:
    doc = service.read_qualification(qid, call.caller)
    return Reply(tmf.select_fields(doc, tmf.field_selection(call.query)))


@endpoint(bp, RULES, ["GET"], name="list_qualification_rule")
def list_rules(call: AuthenticatedCall) -> Reply:
    items, total = service.search_rules(call.query, call.caller)
    return listing(items, total)


@endpoint(bp, RULES, ["POST"], name="create_qualification_rule", body="QualificationRule")
def create_rule(call: AuthenticatedCall) -> Reply:
    doc, version = service.create_rule(call.json(), call.caller)
    return with_etag(doc, version, 201)


@endpoint(bp, RULES + "/{rid}", ["GET"], name="get_qualification_rule")
def get_rule(call: AuthenticatedCall, rid: str) -> Reply:
    doc, version = service.read_rule(rid, call.caller)
    return with_etag(tmf.select_fields(doc, tmf.field_selection(call.query)), version)


@endpoint(bp, RULES + "/{rid}", ["PATCH"], name="patch_qualification_rule", body="QualificationRule")
def patch_rule(call: AuthenticatedCall, rid: str) -> Reply:
    doc, version = service.update_rule(rid, call.json(), call.caller, call.header("if-match"))
    return with_etag(doc, version)


@endpoint(bp, RULES + "/{rid}", ["DELETE"], name="delete_qualification_rule")
def delete_rule(call: AuthenticatedCall, rid: str) -> Reply:
    service.delete_rule(rid, call.caller, call.header("if-match"))
    return no_content()


@endpoint(bp, "/guidedSelling/{oid}", ["GET"], name="guided_selling")
def guided_selling(call: AuthenticatedCall, oid: str) -> Reply:
    return Reply(service.guided_selling(oid, call.caller))
