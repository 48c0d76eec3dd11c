-- Memories with their photo's renditions, and share links. A photo's files live in the file
-- store under keys made from the couple's and the photo's ids; these rows are the only
-- reference to them.
CREATE TABLE memories (
    id             TEXT PRIMARY KEY,
    couple_id      TEXT NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    title          TEXT NOT NULL,
    description    TEXT,
    happened_on    DATE,
    -- The day it was recorded, in the couple's time zone.
    recorded_on    DATE NOT NULL,
    -- happened_on, or else the day it was recorded: the timeline's order.
    timeline_day   DATE NOT NULL,
    -- Lower-cased title and description: search folds case in every script on both backends.
    search_text    TEXT NOT NULL,
    photo_id       TEXT,
    photo_format   TEXT,
    photo_width    INTEGER,
    photo_height   INTEGER,
    photo_bytes    BIGINT,
    medium_format  TEXT,
    medium_width   INTEGER,
    medium_height  INTEGER,
    medium_bytes   BIGINT,
    thumb_format   TEXT,
    thumb_width    INTEGER,
    thumb_height   INTEGER,
    thumb_bytes    BIGINT,
    created_by     TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX memories_timeline ON memories (couple_id, timeline_day DESC, id DESC);

CREATE TABLE shares (
    id            TEXT PRIMARY KEY,
    couple_id     TEXT NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    token_digest  TEXT NOT NULL UNIQUE,
    all_memories  BOOLEAN NOT NULL,
    expires_at    TIMESTAMP,
    revoked_at    TIMESTAMP,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX shares_of_couple ON shares (couple_id, created_at);

-- The memories of a share that does not show them all; a deleted memory drops out.
CREATE TABLE share_memories (
    share_id   TEXT NOT NULL REFERENCES shares (id) ON DELETE CASCADE,
    memory_id  TEXT NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
    PRIMARY KEY (share_id, memory_id)
);
CREATE INDEX share_memories_memory ON share_memories (memory_id);
