"""Progress: /progress (with a PNG chart), /leaderboard, streaks, /forget-me, /language."""
