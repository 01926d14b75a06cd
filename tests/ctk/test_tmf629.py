"""TMF629 Customer Management conformance kit, unmodified, against the local runtime (agent token)."""
from tests.ctk import newman


def test_tmf629_ctk_passes(local_runtime, tmp_path):
    result = newman.run(
        "TMF629", "ctk/CTK-Customer-4.0.0.postman_collection.json", "ctk/TMFENV-V4.0.0.postman_environment.json",
        "Customer", f"{local_runtime.url}/tmf-api/customerManagement/v4",
        local_runtime.token("agent", channel="callcenter"), tmp_path)
    assert result.assertions > 50, result.output
    assert result.failures == [], "\n".join(result.failures) + "\n" + result.output
