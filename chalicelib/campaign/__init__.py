"""Recommendation & Campaign: scheduled marketing campaigns (own API, TMF conventions, TMF671 as the
nearest model) and next-best-offer recommendations (TMF680)."""
