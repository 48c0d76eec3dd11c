ALTER TABLE tenants DROP COLUMN deleted_at;
