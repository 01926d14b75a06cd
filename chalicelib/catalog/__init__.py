"""Product Catalogue Hub and Catalogue Publishing (TMF620 productCatalogManagement v4)."""
