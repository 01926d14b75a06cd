"""Fulfilment stacks: the adapters that hand child orders to each stack (adapters.py) and the
simulated stacks the local runtime runs in their place (simulator.py)."""
