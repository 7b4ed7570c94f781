"""Study groups: channel quiz rounds, group practice, the daily question, this week's plan.

A capability like the others (``register(app, …)``): what it needs of the quiz, practice
and concepts capabilities are the ports in :mod:`bot.study.ports`, wired by the coach.
"""
