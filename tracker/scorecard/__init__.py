"""The weekly scorecard: the card, its rendering and the send run."""
