"""The AI screen: the AI worker's models and a try-it panel (issue #12)."""
