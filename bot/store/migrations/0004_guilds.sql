-- Choices a server's managers made (/admin practice-channel). These are settings of a
-- server, not facts about a person: no user_id, so /forget-me has nothing to remove here.

CREATE TABLE guild_settings (
    guild_id            TEXT PRIMARY KEY,
    practice_channel_id TEXT,  -- NULL: practice runs in any channel
    updated_at          TEXT NOT NULL
) WITHOUT ROWID;
