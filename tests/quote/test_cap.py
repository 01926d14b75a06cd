"""The documented line cap (docs/decisions.md): a quote of 50 items, each with its own discount
and term, fits in the 64 KB every stored document is allowed, and the 51st is refused."""
import json

from chalicelib.customer.domain import MAX_DOCUMENT_BYTES
from tests.quote.conftest import ANDREA, QUOTES, new_quote, stored

OFFERINGS = ("po-mobile-unlimited", "po-phone-x", "po-broadband-500", "po-tv-max", "po-phone-x-plan-24")


def test_fifty_items_fit_in_one_item(api, demo, agent):
    items = [{"productOffering": {"id": OFFERINGS[n % len(OFFERINGS)]}, "quantity": 100,
              "discount": {"percentage": 5}, "itemTerm": [{"duration": {"amount": 24}}]} for n in range(50)]
    status, doc, _ = api.call("POST", QUOTES, agent, new_quote(*items, customer=ANDREA))
    assert status == 201, doc
    size = len(json.dumps(doc, separators=(",", ":")))
    print(f"50-item quote: {size} bytes (limit {MAX_DOCUMENT_BYTES})")
    assert size < MAX_DOCUMENT_BYTES
    before = stored()
    status, _, _ = api.call("POST", QUOTES, agent, new_quote(*(items + items[:1]), customer=ANDREA))
    assert status == 400 and stored() == before
