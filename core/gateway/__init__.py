"""The gateway side, as far as it is built: discovery (asking orchestrators for their OrchestratorInfo the
way a gateway does). The ticket sender is core/payments/sender.py."""
