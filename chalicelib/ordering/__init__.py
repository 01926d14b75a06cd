"""Federated Order Management (TMF622): capture, decomposition into child orders per fulfilment
stack, orchestration (Step Functions), milestones from the stacks, cancellation."""
