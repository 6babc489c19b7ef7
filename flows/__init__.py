"""The LangGraph state machine of the author's and the buyer's journeys."""
