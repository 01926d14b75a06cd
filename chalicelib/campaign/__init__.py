"""Recommendation & Campaign: scheduled marketing campaigns (own API, TMF conventions, TMF671 as the
nearest model) and next-best-offer recommendations (TMF680).

The public surface: what other contexts may call. Read on first use: importing the package
loads none of it.
    recommend  TMF680 queryProductRecommendation for a caller (the agent's work item)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from chalicelib.auth import Caller

__all__ = ["recommend"]


def recommend(body: Mapping[str, Any], caller: Caller) -> dict[str, Any]:
    """The recommendations a queryProductRecommendation `body` asks for, checked as the caller's
    own query (recommendation.query): instant, not stored."""
    from chalicelib.campaign import recommendation

    return recommendation.query(body, caller)
