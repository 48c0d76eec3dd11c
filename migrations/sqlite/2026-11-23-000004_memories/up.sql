-- The couple memories site: each partner's perspective (side A is the seed's number 1, B is 2).
CREATE TABLE perspectives (
    couple_id  TEXT NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    side       TEXT NOT NULL CHECK (side IN ('A', 'B')),
    author_id  TEXT NOT NULL,
    content    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (couple_id, side)
);
