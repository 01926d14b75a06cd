from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, VersionAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db import JsonBody, meta


class ByKind(GlobalSecondaryIndex):
    """Every list of one resource kind is a Query on this index, ordered by name."""

    class Meta:
        index_name = "by-kind"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    sort = UnicodeAttribute(range_key=True)


class CatalogRecord(Model):
    """One TMF620 resource (`pk` = "<kind>#<id>"), or the catalogue stamp item ("META#stamp")."""
    Meta = meta("catalog")

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(null=True)     # productOffering, productSpecification, ...
    sort = UnicodeAttribute(null=True)     # lower-case name + "#" + id
    body = JsonBody(null=True)
    version = VersionAttribute(null=True)

    by_kind = ByKind()


class CatalogStamp(Model):
    """The stamp item on the same table, written unconditionally (no version)."""
    Meta = meta("catalog")

    pk = UnicodeAttribute(hash_key=True)
    body = JsonBody(null=True)
