"""Behaviour on synthetic customers: choice models, what-if scenarios, journeys, attribution."""
