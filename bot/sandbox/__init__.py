"""Per-user Docker sandboxes: the docker CLI parser, the safety policy, rendering and the engine."""
