-- Each couple's photo link generation: signed photo URLs carry the generation they were made
-- under, and bumping it revokes all of them. A couple without a row is at generation 0.
CREATE TABLE photo_link_keys (
    couple_id   TEXT PRIMARY KEY REFERENCES couples (id) ON DELETE CASCADE,
    generation  BIGINT NOT NULL
);
