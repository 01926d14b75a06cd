from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, VersionAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.db import ByKind, JsonBody, meta


class ByKindKeys(GlobalSecondaryIndex):
    """by-kind with the keys alone (`kind`, `sort`, `pk`: about 100 bytes an entry): counts a
    kind (a COUNT Query) and skips to a list's offset without reading the documents."""

    class Meta:
        index_name = "by-kind-keys"
        projection = KeysOnlyProjection()

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
    by_kind_keys = ByKindKeys()


class CatalogStamp(Model):
    """The stamp item on the same table, written unconditionally (no version)."""
    Meta = meta("catalog")

    pk = UnicodeAttribute(hash_key=True)
    body = JsonBody(null=True)
