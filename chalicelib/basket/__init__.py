"""Basket & Context Hub: one basket that follows the customer across channels (TMF663
shoppingCart), priced from the catalogue, checked against the central rules, handed between the
customer and agents."""
