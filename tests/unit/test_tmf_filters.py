"""Strict list filters (issue 15): a list may be filtered by its resource's attributes only
(chalicelib/tmf.py `list_query`); anything else is a 400 naming it, on every list of every API."""
import json

import pytest

from chalicelib import tmf
from chalicelib.catalog import domain as catalog_domain
from chalicelib.errors import ApiError
from tests.support import tmf_attributes
from tests.support.tmf_spec import TMF_ERROR_KEYS

OFFERING = catalog_domain.kind("productOffering").attributes


def test_the_shipped_attributes_are_the_specs():
    shipped = json.loads(tmf_attributes.TARGET.read_text())
    assert shipped == tmf_attributes.generate(), "run .venv/bin/python -m tests.support.tmf_attributes"


@pytest.mark.parametrize("path", ["name", "lifecycleStatus", "id", "href", "@type", "lastUpdate",
                                  "validFor.startDateTime", "category.name", "channel.id",
                                  "productOfferingPrice.id",
                                  # below a free-form value (TMF620's Any) every path is an attribute
                                  "prodSpecCharValueUse.productSpecCharacteristicValue.value.colour"])
def test_resource_attributes_and_dotted_paths_are_known(path):
    assert OFFERING.knows(path)


@pytest.mark.parametrize("path", ["q", "keyword", "nam", "category.colour", "validFor", "validFor.start",
                                  "name.first", "productOfferingPrice.price.value"])
def test_other_paths_are_not(path):
    known = OFFERING.knows(path)
    # validFor itself is an attribute (a TimePeriod); its children must be the TimePeriod's
    assert known is (path == "validFor")


def test_model_attributes_and_extras():
    from chalicelib.campaign import schemas

    known = tmf.attributes("campaign", models=[schemas.Campaign], extras=("id", "context.*"))
    assert known.knows("targetSegment.rule.attribute") and known.knows("messageTemplate.sms")
    assert known.knows("channel.id") and known.knows("id") and known.knows("context") and known.knows("context.a.b")
    assert not known.knows("targetSegment.colour") and not known.knows("contextual")


def test_list_query_reads_paging_fields_and_filters():
    q = tmf.list_query({"offset": "2", "limit": "5", "fields": "name", "sort": "name", "name": "a,b",
                        "validFor.startDateTime.gt": "2026-01-01T00:00:00Z", "relatedParty.id": '"14"'},
                       tmf.attributes("customer", "TMF629"))
    assert (q.offset, q.limit, q.fields) == (2, 5, ["name"])
    assert sorted(q.filters) == [("name", "eq", ["a", "b"]), ("relatedParty.id", "eq", ["14"]),
                                 ("validFor.startDateTime", "gt", ["2026-01-01T00:00:00Z"])]


def test_unknown_filters_are_named_in_a_400():
    with pytest.raises(ApiError) as err:
        tmf.list_query({"q": "home", "keyword": "x", "name": "ok"}, OFFERING)
    e = err.value
    assert e.status == 400 and e.code == "unknownFilter"
    assert "'keyword'" in e.message and "'q'" in e.message and "productOffering" in e.message
    assert "'name'" not in e.message.split("(e.g.")[0]


def test_route_params_are_neither_filters_nor_refused():
    q = tmf.list_query({"claimed": "true"}, tmf.attributes("worklist item", extras=("id",)), route_params=("claimed",))
    assert q.filters == []
    with pytest.raises(ApiError):
        tmf.list_query({"claimed": "true", "colour": "red"}, tmf.attributes("worklist item"), route_params=("claimed",))


# --- every list of every API, over HTTP -------------------------------------------------------------
AGENT = {"channel": "callcenter"}
LISTS = [
    ("catalog-admin", {}, "/tmf-api/productCatalogManagement/v4/productOffering"),
    ("channel", {"channel": "web"}, "/tmf-api/productCatalogManagement/v4/productOffering"),
    *[("catalog-admin", {}, f"/tmf-api/productCatalogManagement/v4/{k}")
      for k in ("catalog", "category", "productSpecification", "productOfferingPrice", "importJob", "exportJob")],
    ("marketing", {}, "/tmf-api/campaignManagement/v4/campaign"),
    ("agent", AGENT, "/tmf-api/customerManagement/v4/customer"),
    ("agent", AGENT, "/tmf-api/customerManagement/v4/customer/c-1/product"),
    ("agent", AGENT, "/tmf-api/partyInteraction/v4/partyInteraction"),
    ("agent", AGENT, "/tmf-api/communicationManagement/v4/communicationMessage"),
    ("agent", AGENT, "/tmf-api/productOrderingManagement/v4/productOrder"),
    ("agent", AGENT, "/tmf-api/productOrderingManagement/v4/cancelProductOrder"),
    ("agent", AGENT, "/tmf-api/productOfferingQualification/v4/productOfferingQualification"),
    ("agent", AGENT, "/tmf-api/productOfferingQualification/v4/qualificationRule"),
    ("agent", AGENT, "/tmf-api/productInventory/v4/product"),
    ("agent", AGENT, "/tmf-api/shoppingCart/v4/shoppingCart"),
    ("agent", AGENT, "/recovery/worklist"),
]


@pytest.mark.parametrize("role,claims,path", LISTS, ids=[f"{r}:{p.rsplit('/', 2)[-2]}/{p.rsplit('/', 1)[-1]}"
                                                          for r, _, p in LISTS])
def test_every_list_refuses_an_unknown_filter(client, token, role, claims, path):
    headers = {"Authorization": f"Bearer {token(role, **claims)}"}
    ok = client.http.get(f"{path}?limit=1&id=nothing-has-this-id", headers=headers)
    assert ok.status_code in (200, 404), ok.body   # 404: customer c-1 does not exist; the filter was fine
    tries = (("q=home+secu", "'q'"), ("keyword=x&id=1", "'keyword'"), ("relatedParty.colour=red", None))
    for query, named in tries:
        if query.startswith("q=") and path.endswith("/productOffering"):
            continue   # the storefront's keyword search (tests/catalog/test_search.py), not a filter
        r = client.http.get(f"{path}?{query}", headers=headers)
        body = json.loads(r.body)
        assert r.status_code == 400, (query, r.body)
        assert all(k in body for k in TMF_ERROR_KEYS) and body["code"] == "unknownFilter"
        assert (named or "'relatedParty.colour'") in body["message"]
