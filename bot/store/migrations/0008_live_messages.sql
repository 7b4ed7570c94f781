-- What a restarted coach needs to keep showing a study group's messages where they are.
--
-- live_messages: the message a front end made for a live post (a channel round's scoreboard
-- and question, a practice board), by the post's key, so that after a restart the coach edits
-- that message in place instead of posting it again. Nothing about a person; rows of posts
-- nobody updated for a long time are pruned when new ones are written.
CREATE TABLE live_messages (
    medium     TEXT NOT NULL,   -- the front end that made it ('discord')
    post_key   TEXT NOT NULL,   -- the post's key (study:board:12)
    channel_id TEXT NOT NULL,   -- where the message is
    message_id TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (medium, post_key)
) WITHOUT ROWID;

CREATE INDEX live_messages_age ON live_messages (updated_at);

-- A group practice may run in a room of its own that the front end opened for it (a thread
-- of the channel on Discord): its board and summary go there, and /study join or /study end
-- find it from the room or from the channel it was opened in.
ALTER TABLE study_practices ADD COLUMN room_id TEXT;

CREATE UNIQUE INDEX study_practices_live_room ON study_practices (guild_id, room_id)
    WHERE ended_at IS NULL AND room_id IS NOT NULL;

-- Why the front end last could not open a room here ('forbidden': no permission;
-- 'unsupported': a channel that cannot have one), so that the server is told once.
ALTER TABLE study_settings ADD COLUMN rooms_refused TEXT;
