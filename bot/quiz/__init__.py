"""Quizzes: the question bank, grading (typed commands through the sandbox's docker CLI
parser), rounds stored in SQLite, and spaced-repetition reviews with FSRS."""
