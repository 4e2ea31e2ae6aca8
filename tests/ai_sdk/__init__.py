"""The official livepeer-ai SDK (0.10.0, its own venv) driving `lpc node -gateway` and
`lpc node -orchestrator -aiWorker` end to end: issue #12's "Done when"."""
