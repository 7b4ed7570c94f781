"""Concepts: explain Docker ideas from content files, in Korean and English."""
