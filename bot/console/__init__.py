"""The coach in a terminal: the same commands as on Discord, one per line."""
