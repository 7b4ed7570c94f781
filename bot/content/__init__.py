"""Content loading: the library of items read from ``content/``, the message catalogs, the
map of the seed text, and the registry through which capabilities add their kinds of content.

This package knows no feature. Concepts, questions and scenarios are kinds that their
capabilities register (``bot.concepts``, ``bot.quiz``, ``bot.practice``); the composition root
(``bot.coach``) builds the registry the same way for the running coach and for
``python -m bot content check|coverage``.
"""

from bot.content.items import ContentItem, ContentKind, ContentLibrary, CoverageRule, Role
from bot.content.library import check_content, load_library
from bot.content.registry import ContentRegistry, Derived, ReloadOutcome

__all__ = [
    "ContentItem",
    "ContentKind",
    "ContentLibrary",
    "ContentRegistry",
    "CoverageRule",
    "Derived",
    "ReloadOutcome",
    "Role",
    "check_content",
    "load_library",
]
