"""TMF687 Stock conformance kit (v4.1.0, for an API whose productStock and reserveProductStock
are v4.0.0's), unmodified, against the local runtime, with a catalog-admin token: the one role
that both writes stock and reserves it (the kit uses one token for everything).

The kit creates a productStock with an empty stockedProduct (a stock of no named offering), and
reserves an item that names no product: that reservation is answered 201 and rejected, holding
nothing (docs/decisions.md); the demo stock must be untouched afterwards. Its two 404 checks
ask for capitalised paths (ProductStock/..., ReserveProductStock/...), which are no route here."""
from tests.ctk import newman

API = "/tmf-api/stockManagement/v4"


def _levels(local_runtime, auth):
    status, _, items = local_runtime.request("GET", f"{API}/productStock?stockedProduct.productOffering.id=po-phone-x",
                                             None, auth)
    assert status == 200, items
    return {s["id"]: s["productStockLevel"]["amount"] for s in items}


def test_tmf687_ctk_passes(local_runtime, tmp_path):
    token = local_runtime.token("catalog-admin")
    auth = {"Authorization": f"Bearer {token}"}
    before = _levels(local_runtime, auth)
    result = newman.run(
        "TMF687", "ctk/TMF687-Stock-v4.1.0.testkit.json", "ctk/TMFENV-V4.0.0.postman_environment.json",
        "Stock", f"{local_runtime.url}{API}", token, tmp_path)
    assert result.requests == 13 and result.assertions > 40, result.output
    assert result.failures == [], "\n".join(result.failures) + "\n" + result.output
    assert _levels(local_runtime, auth) == before
