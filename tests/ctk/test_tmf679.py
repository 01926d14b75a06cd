"""TMF679 Product Offering Qualification conformance kit (R18.0, the kit TM Forum publishes for
this API, written for v1 field names), unmodified, against the local runtime's v4 API with an
agent token. Its offerings, category and parties (7431, 66, 21, 14, 24) are not in Omnishop: the
answers are `unqualified` with reasons, and the parties are qualified as prospects."""
from tests.ctk import newman


def test_tmf679_ctk_passes(local_runtime, tmp_path):
    result = newman.run(
        "TMF679-R18.0", "ctk/CTK-TMF679-ProductOfferingQualification.postman_collection.json",
        "ctk/TMForumR18.0.postman_environment.json", "ProductOfferingQualificationAPI",
        f"{local_runtime.url}/tmf-api/productOfferingQualification/v4",
        local_runtime.token("agent", channel="callcenter"), tmp_path, trailing_slash=False)
    assert result.assertions > 50, result.output
    assert result.failures == [], "\n".join(result.failures) + "\n" + result.output
