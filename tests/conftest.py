import os

# Snapshot tests compare colours: a NO_COLOR inherited from the environment would break them.
os.environ.pop("NO_COLOR", None)
