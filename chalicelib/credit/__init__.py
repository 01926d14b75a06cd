"""Credit check before contract products and device financing (issue 14 part 3)."""
