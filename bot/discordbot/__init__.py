"""The Discord front end: it turns interactions into core requests and replies into messages.

Only this package and :mod:`bot.exts` import discord.
"""
