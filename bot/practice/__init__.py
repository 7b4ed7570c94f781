"""Guided practice: scenarios whose steps are checked against the learner's real sandbox."""
