DROP TABLE photo_link_keys;
