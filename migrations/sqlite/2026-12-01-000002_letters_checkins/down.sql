ALTER TABLE letters DROP COLUMN sealed_by_id;
ALTER TABLE letters DROP COLUMN deliver_on;
