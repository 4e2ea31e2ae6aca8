"""The gateway side (`lpc node --gateway`, go-livepeer's `-gateway`): its parts and their ports are in
ports.py; discovery.py asks orchestrators for their OrchestratorInfo the way a gateway does. The ticket
sender is core/payments/sender.py."""
