"""Channel process handling: abandoned baskets recovered through SMS, email and an agent."""
