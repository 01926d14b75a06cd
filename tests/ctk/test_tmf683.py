"""TMF683 Party Interaction conformance kit, unmodified, against the local runtime (agent token)."""
from tests.ctk import newman


def test_tmf683_ctk_passes(local_runtime, tmp_path):
    result = newman.run(
        "TMF683", "ctk/TMF683-PartyInteraction-v4.0.0.testkit.json", "ctk/TMFENV-V4.0.0.postman_environment.json",
        "Party_Interaction", f"{local_runtime.url}/tmf-api/partyInteraction/v4",
        local_runtime.token("agent", channel="callcenter"), tmp_path)
    assert result.assertions > 50, result.output
    assert result.failures == [], "\n".join(result.failures) + "\n" + result.output
