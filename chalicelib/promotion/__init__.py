"""TMF671 promotions as catalogue data, and the one evaluator basket pricing applies them with."""
