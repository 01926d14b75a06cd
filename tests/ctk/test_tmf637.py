"""TMF637 Product Inventory conformance kit, unmodified, against the local runtime, with an agent
token (call centre). The kit only reads: it lists `product` and needs at least one product
carrying billingAccount, href, id, productCharacteristic, productOffering, productPrice,
relatedParty and status; one is seeded first (the demo products would do, but the kit must not
depend on them)."""
from tests.ctk import newman

API = "/tmf-api/productInventory/v4"


def test_tmf637_ctk_passes(local_runtime, tmp_path):
    token = local_runtime.token("agent", channel="callcenter")
    auth = {"Authorization": f"Bearer {token}"}
    status, _, seeded = local_runtime.request("POST", f"{API}/product", {
        "name": "Broadband 500", "status": "active", "productOffering": {"id": "po-broadband-500"},
        "productCharacteristic": [{"name": "downloadSpeed", "value": "500 Mbit/s"}],
        "relatedParty": [{"id": "cust-acme", "role": "customer", "@referredType": "Customer"}]}, auth)
    assert status == 201, seeded
    result = newman.run(
        "TMF637", "ctk/TMF637-ProductInventory-v4.0.0.testkit.json", "ctk/TMFENV-V4.0.0.postman_environment.json",
        "Product_Inventory", f"{local_runtime.url}{API}", token, tmp_path)
    assert result.assertions > 20, result.output
    assert result.failures == [], "\n".join(result.failures) + "\n" + result.output
    status, _, _ = local_runtime.request("DELETE", f"{API}/product/{seeded['id']}", None, auth)
    assert status == 204
