DROP TABLE share_memories;
DROP TABLE shares;
DROP TABLE memories;
