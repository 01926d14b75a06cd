"""360 Customer View: customers, consent and contact preferences, products held, identity
(anonymous visitor -> customer) and the cross-channel interaction history (TMF629, TMF683)."""
