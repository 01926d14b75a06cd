"""TMF648 quoteManagement: quotes priced from the catalogue, approval rules as data, versions."""
