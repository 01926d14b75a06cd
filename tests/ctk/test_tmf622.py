"""TMF622 Product Ordering conformance kit, unmodified, against the local runtime, with an agent
token (call centre). The kit orders an item naming no offering for party 456-dd-df45: Omnishop
records such an order `rejected` (TMF622's consistency check) and answers 201, as the kit expects."""
from tests.ctk import newman


def test_tmf622_ctk_passes(local_runtime, tmp_path):
    result = newman.run(
        "TMF622", "ctk/TMF622-ProductOrdering-v4.0.0.testkit.json", "ctk/TMFENV-V4.0.0.postman_environment.json",
        "Product_Ordering", f"{local_runtime.url}/tmf-api/productOrderingManagement/v4",
        local_runtime.token("agent", channel="callcenter"), tmp_path)
    assert result.assertions > 20, result.output
    assert result.failures == [], "\n".join(result.failures) + "\n" + result.output
