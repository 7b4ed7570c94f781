"""Loading and validating everything under ``content/``: concepts, questions, scenarios,
message catalogs and the map of the seed text."""

from bot.content.library import ContentLibrary, load_library

__all__ = ["ContentLibrary", "load_library"]
