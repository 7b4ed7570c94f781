"""The front-end-neutral core: replies, requests, commands, translations, errors.

Nothing in ``bot.core`` (or any capability package) imports discord.
"""
