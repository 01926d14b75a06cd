"""TMF620 Product Catalog conformance kit, unmodified, against the local runtime."""
from tests.ctk import newman


def test_tmf620_ctk_passes(local_runtime, tmp_path):
    result = newman.run(
        "TMF620", "ctk/CTK-Product_Catalog-4.0.0.postman_collection.json",
        "ctk/TMFENV-V4.0.0.postman_environment.json", "Product_Catalog",
        f"{local_runtime.url}/tmf-api/productCatalogManagement/v4", local_runtime.token("catalog-admin"), tmp_path)
    assert result.assertions > 100, result.output
    assert result.failures == [], "\n".join(result.failures) + "\n" + result.output
