"""The demo catalogue as pricing reads it, without AWS (basket.pricing's catalogue interface)."""
from chalicelib.catalog.demo import CATALOGUE

OFFERINGS = {o["id"]: o for o in CATALOGUE["productOffering"]}
PRICES = {p["id"]: p for p in CATALOGUE["productOfferingPrice"]}


class Cat:
    def __init__(self, offerings=OFFERINGS, prices=PRICES):
        self.offerings, self.prices = offerings, prices

    def offering(self, oid):
        return self.offerings.get(oid)

    def price(self, pid):
        return self.prices.get(pid)
