"""TMF conventions: plain functions, no AWS."""
import pytest

from chalicelib import tmf
from chalicelib.errors import ApiError


def test_merge_patch_follows_rfc7386():
    target = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1]}
    assert tmf.merge_patch(target, {"a": None, "b": {"c": 9}, "e": [2], "f": "x"}) == {
        "b": {"c": 9, "d": 3}, "e": [2], "f": "x"}
    assert target == {"a": 1, "b": {"c": 2, "d": 3}, "e": [1]}  # not mutated


def test_fields_keep_exactly_those_and_the_id():
    doc = {"id": "1", "href": "h", "@type": "T", "name": "n", "price": {"v": 1}, "other": 2}
    assert tmf.select_fields(doc, ["name", "price.v"]) == {"id": "1", "name": "n", "price": {"v": 1}}
    assert tmf.select_fields(doc, ["href", "@type"]) == {"id": "1", "href": "h", "@type": "T"}
    assert tmf.select_fields(doc, None) == doc


def test_filter_values_may_be_quoted():
    filters = tmf.attribute_filters({"relatedParty.id": '"14"', "state": 'done,"held"', "fields": "id"})
    assert filters == [("relatedParty.id", "eq", ["14"]), ("state", "eq", ["done", "held"])]
    assert tmf.matches({"relatedParty": [{"id": "14"}], "state": "held"}, filters)


@pytest.mark.parametrize("params,expected", [
    ({"name": "TV Max"}, True),
    ({"name": "TV Max,Other"}, True),
    ({"name": "Other"}, False),
    ({"channel.id": "web"}, True),
    ({"channel.id": "sms"}, False),
    ({"isBundle": "false"}, True),
    ({"price.value.gt": "10"}, True),
    ({"price.value.lt": "10"}, False),
    ({"lastUpdate.gte": "2026-01-01T00:00:00.000Z"}, True),
    ({"fields": "name", "offset": "0", "limit": "5"}, True),
])
def test_attribute_filters(params, expected):
    doc = {"name": "TV Max", "channel": [{"id": "web"}, {"id": "app"}], "isBundle": False,
           "price": {"value": 20}, "lastUpdate": "2026-11-01T10:00:00.000Z"}
    assert tmf.matches(doc, tmf.attribute_filters(params)) is expected


@pytest.mark.parametrize("params", [{"offset": "-1"}, {"limit": "0"}, {"limit": "abc"}, {"limit": "100000"}])
def test_bad_paging_is_a_400(params):
    with pytest.raises(ApiError) as exc:
        tmf.paging(params)
    assert exc.value.status == 400


def test_page_counts_total():
    items = [{"id": str(i)} for i in range(7)]
    assert tmf.page(items, 5, 5) == ([{"id": "5"}, {"id": "6"}], 7)


def test_parse_datetime_rejects_garbage():
    assert tmf.parse_datetime("2026-01-01T00:00:00Z", "x").year == 2026
    with pytest.raises(ApiError):
        tmf.parse_datetime("yesterday", "validFor.startDateTime")


def test_href_base_follows_config_then_request(monkeypatch):
    monkeypatch.delenv("OMNISHOP_PUBLIC_BASE_URL", raising=False)
    tmf.set_request_base({"host": "abc.execute-api.eu-west-1.amazonaws.com"}, "api")
    assert tmf.href("/tmf-api/x/v4", "thing", "1") == "https://abc.execute-api.eu-west-1.amazonaws.com/api/tmf-api/x/v4/thing/1"
    tmf.set_request_base({"host": "127.0.0.1:8000"}, "api")
    assert tmf.base_url() == "http://127.0.0.1:8000"
    monkeypatch.setenv("OMNISHOP_PUBLIC_BASE_URL", "https://shop.example.com/")
    assert tmf.base_url() == "https://shop.example.com"
    tmf.set_request_base({}, None)
