"""What the schema fuzz (tests/fuzz) found stored and served back against the TMF specs: held at
the payload models now, without AWS."""
import pytest
from pydantic import ValidationError

from chalicelib.catalog.schemas import ProductSpecification
from chalicelib.customer.schemas import Customer


@pytest.mark.parametrize("kept", [
    {"attachment": [{"@referredType": ["a list"]}]},
    {"productSpecificationRelationship": [{"id": True}]},
    {"policy": [{"id": "p-1", "href": {"an": "object"}}]},
    {"@baseType": 7},
])
def test_kept_attributes_keep_ids_hrefs_and_meta_as_strings(kept):
    with pytest.raises(ValidationError, match="must be a string"):
        ProductSpecification.model_validate({"name": "x", **kept})


def test_kept_attributes_otherwise_pass_as_they_came():
    kept = {"attachment": [{"id": "a-1", "@referredType": "Attachment", "size": {"amount": 3}}]}
    assert ProductSpecification.model_validate({"name": "x", **kept}).model_extra == kept


def test_engaged_party_needs_its_referred_type():
    with pytest.raises(ValidationError, match="@referredType"):
        Customer.model_validate({"name": "x", "engagedParty": {"id": "party-1"}})
    assert Customer.model_validate({"name": "x", "engagedParty": {"id": "p", "@referredType": "Individual"}})
