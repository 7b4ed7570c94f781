"""General commands: ``/help``."""
