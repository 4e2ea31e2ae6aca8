"""Media pipeline: profiles, encoder choice, the PyAV ladder transcoder, synthetic sources, capacity."""
