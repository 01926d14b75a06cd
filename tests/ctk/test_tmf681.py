"""TMF681 Communication conformance kit, unmodified, against the local runtime (agent token).
Its messages name an empty receiver: they are stored, not sent (state cancelled, with the reason)."""
from tests.ctk import newman


def test_tmf681_ctk_passes(local_runtime, tmp_path):
    result = newman.run(
        "TMF681", "ctk/TMF681-Communication-v4.0.0.testkit.json", "ctk/TMFENV-V4.0.0.postman_environment.json",
        "Communication", f"{local_runtime.url}/tmf-api/communicationManagement/v4",
        local_runtime.token("agent", channel="callcenter"), tmp_path)
    assert result.assertions > 50, result.output
    assert result.failures == [], "\n".join(result.failures) + "\n" + result.output
