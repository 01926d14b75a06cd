"""Product Inventory (TMF637): the products customers hold, made and changed by completed child
orders (from the order stream) and by agents and stacks; read by the 360 view, the rules and
recommendations, and order capture through `inventory.service` (products_of, held)."""
