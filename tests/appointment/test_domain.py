"""The simulated field-service calendar is deterministic: weekdays only, two slots a day, in the
areas served; the same slots closed every time."""
import datetime as dt

from chalicelib.appointment import domain

MONDAY = dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc)


def test_postcode_areas():
    assert domain.area_of("BS1 4DJ") == "BS" and domain.area_of("b1 1aa") == "B"
    assert domain.area_of("") is None and domain.area_of("12345") is None and domain.area_of(None) is None


def test_the_calendar_is_weekdays_in_served_areas_and_deterministic():
    week = domain.calendar("BS", MONDAY, MONDAY + dt.timedelta(days=7))
    assert week == domain.calendar("BS", MONDAY, MONDAY + dt.timedelta(days=7))
    assert all(s.weekday() < 5 and s.time() in (dt.time(8), dt.time(13)) for s, _ in week)
    closed = [s for s, _ in domain.calendar("BS", MONDAY, MONDAY)]   # an empty window: none
    assert closed == []
    every = [MONDAY + dt.timedelta(days=d, hours=h) for d in range(5) for h in (8, 13)]
    assert [s for s, _ in week] == [s for s in every if not domain.closed("BS", s)]
    assert len(week) < len(every)  # some slots have no engineer free this week
    assert domain.calendar("ZZ", MONDAY, MONDAY + dt.timedelta(days=7)) == []
    assert domain.capacity("BS", week[0][0]) == 2 and domain.capacity("ZZ", week[0][0]) == 0


def test_what_cannot_be_booked():
    start, end = domain.calendar("BS", MONDAY, MONDAY + dt.timedelta(days=7))[0]
    assert domain.slot_problem("BS", start, end, MONDAY - dt.timedelta(days=1)) is None
    assert domain.slot_problem("BS", start, end, start)[0] == "slotInPast"
    assert domain.slot_problem("BS", start, end + dt.timedelta(hours=1), MONDAY)[0] == "unknownSlot"
    assert domain.slot_problem("BS", start + dt.timedelta(days=5), end + dt.timedelta(days=5), MONDAY)[0] \
        == "unknownSlot"   # a Saturday


def test_which_items_need_an_engineer():
    offerings = {"po-bb": {"id": "po-bb", "productSpecification": {"id": "ps-bb"}},
                 "po-mobile": {"id": "po-mobile", "productSpecification": {"id": "ps-mobile"}},
                 "po-bundle": {"id": "po-bundle", "bundledProductOffering": [{"id": "po-bb"}, {"id": "po-mobile"}]}}
    specs = {"ps-bb": {"id": "ps-bb", "installation": "engineer"}, "ps-mobile": {"id": "ps-mobile"}}
    items = [{"id": "1", "action": "add", "productOffering": {"id": "po-bundle"}},
             {"id": "2", "action": "add", "productOffering": {"id": "po-mobile"}},
             {"id": "3", "action": "delete", "productOffering": {"id": "po-bb"}},
             {"id": "4", "action": "add", "productOffering": {"id": "po-bb"}}]
    assert [i["id"] for i in domain.engineer_items(items, offerings.get, specs.get)] == ["1", "4"]
