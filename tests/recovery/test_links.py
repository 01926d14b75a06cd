"""Invalid and expired links: a clear 4xx, and nothing changes."""
import time

from chalicelib.notify import links
from tests.recovery.conftest import CARTS
from tests.support.orders import item


def test_bad_links_are_refused_and_change_nothing(recovery, api, andrea, pump, monkeypatch):
    status, cart, _ = api.call("POST", CARTS, andrea, {"cartItem": [item("po-home-security")]})
    before = api.call("GET", f"{CARTS}/{cart['id']}", andrea)[1]
    expired = links.sign("basket.recover", cart["id"], 1, now=time.time() - 10)
    forged = links.sign("basket.recover", cart["id"], 60, secrets=["not-ours"])
    other = links.sign("notify.optout", cart["id"], 60)
    for token, code, reason in ((expired, 410, "linkExpired"), (forged, 400, "invalidLink"),
                                ("garbage", 400, "invalidLink"), (other, 400, "invalidLink")):
        for action in ("accept", "resume"):
            status, body, _ = api.call("POST", f"/recovery/link/{token}/{action}", {})
            assert status == code and body["code"] == reason, (action, body)
        assert api.call("POST", f"/recovery/link/{token}/approve", {})[0] in (400, 410)
        status, body, _ = api.call("GET", f"/recovery/link/{token}", {})
        assert status == code
    good = links.sign("basket.recover", cart["id"], 60)
    assert api.call("POST", f"/recovery/link/{good}/approve", {})[0] == 400   # wrong purpose
    assert api.call("POST", f"/recovery/link/{good}/delete", {})[0] == 404
    after = api.call("GET", f"{CARTS}/{cart['id']}", andrea)[1]
    assert after["lastUpdate"] == before["lastUpdate"] and after["status"] == "active"


def test_worklist_is_for_agents(recovery, api, andrea):
    status, body, _ = api.call("GET", "/recovery/worklist", andrea)
    assert status == 403
