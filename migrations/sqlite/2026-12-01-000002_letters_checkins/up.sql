-- Time-locked letters: a letter may carry a delivery day (`deliver_on`) set by one partner
-- (`sealed_by_id`); until that day begins in the other partner's time zone, they see that the
-- letter exists but not its content. Both columns are set together or both null.
ALTER TABLE letters ADD COLUMN deliver_on DATE;
ALTER TABLE letters ADD COLUMN sealed_by_id TEXT;
