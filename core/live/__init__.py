"""Live video-to-video (issue #13): trickle channels, live sessions, per-frame AI pipelines, BYOC."""
