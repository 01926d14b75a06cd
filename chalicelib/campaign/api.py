"""Campaign routes (own API, TMF conventions) and TMF680 recommendations. Thin: parse, call the
service, shape the reply.

  /tmf-api/campaignManagement/v4 (bp):
    GET|POST /campaign, GET|PATCH|DELETE /campaign/{id}    (marketing writes; agents read)
    POST /campaign/{id}/run       run it now (202: the work goes through the campaign-send queue)
    GET  /campaign/{id}/report    targeted, sent, suppressed (consent, cap), landed, baskets, orders, revenue
  /tmf-api/recommendationManagement/v4 (recommendation_bp):
    POST /queryProductRecommendation   instant next-best offers with reasons (not stored)
  / (landing_bp):
    GET /c/{code}                 a campaign link was followed (no token: the code is the key)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib import deferred, settings, tmf
from chalicelib.http import AuthenticatedCall, Call, Reply, endpoint, listing, no_content, with_etag

# imported by the first request that uses them (a cold start loads only what it serves)
if TYPE_CHECKING:   # mypy reads the modules and checks the calls into them
    from chalicelib.campaign import attribution, management, recommendation
else:
    attribution = deferred.module("chalicelib.campaign.attribution")
    management = deferred.module("chalicelib.campaign.management")
    recommendation = deferred.module("chalicelib.campaign.recommendation")

bp = Blueprint(__name__)
recommendation_bp = Blueprint(f"{__name__}.recommendation")
landing_bp = Blueprint(f"{__name__}.landing")


@endpoint(bp, "/campaign", ["GET"], name="list_campaign")
def list_campaigns(call: AuthenticatedCall) -> Reply:
    items, total = management.search(call.query, call.caller)
    return listing(items, total)


@endpoint(bp, "/campaign", ["POST"], name="create_campaign", body="Campaign")
def create_campaign(call: AuthenticatedCall) -> Reply:
    doc, version = management.create(call.json(), call.caller)
    return with_etag(doc, version, 201)


@endpoint(bp, "/campaign/{cid}", ["GET"], name="get_campaign")
def get_campaign(call: AuthenticatedCall, cid: str) -> Reply:
    doc, version = management.read(cid, call.caller)
    return with_etag(tmf.select_fields(doc, tmf.field_selection(call.query)), version)


@endpoint(bp, "/campaign/{cid}", ["PATCH"], name="patch_campaign", body="Campaign")
def patch_campaign(call: AuthenticatedCall, cid: str) -> Reply:
    doc, version = management.update(cid, call.json(), call.caller, call.header("if-match"))
    return with_etag(doc, version)


@endpoint(bp, "/campaign/{cid}", ["DELETE"], name="delete_campaign")
def delete_campaign(call: AuthenticatedCall, cid: str) -> Reply:
    management.delete(cid, call.caller, call.header("if-match"))
    return no_content()


@endpoint(bp, "/campaign/{cid}/run", ["POST"], name="run_campaign")
def run_campaign(call: AuthenticatedCall, cid: str) -> Reply:
    return Reply(management.run_now(cid, call.caller), 202)


@endpoint(bp, "/campaign/{cid}/report", ["GET"], name="campaign_report")
def campaign_report(call: AuthenticatedCall, cid: str) -> Reply:
    return Reply(management.report(cid, call.caller))


@endpoint(recommendation_bp, "/queryProductRecommendation", ["POST"], name="query_product_recommendation",
          body="QueryProductRecommendation")
def query_product_recommendation(call: AuthenticatedCall) -> Reply:
    return Reply(recommendation.query(call.json(), call.caller), 201)


@endpoint(landing_bp, "/c/{code}", ["GET"], authenticated=False, name="campaign_landing")
def landing(call: Call, code: str) -> Reply:
    found = attribution.land(code)
    if settings.env("LINK_BASE_URL"):   # a portal is configured: send the browser there
        return Reply(found, 302, {"Location": found["next"]})
    return Reply(found)
