-- A tenant deleted by its ADMIN: hidden at once, purged with its members and invitations after
-- the grace period (the purge-deleted job).
ALTER TABLE tenants ADD COLUMN deleted_at TIMESTAMP;
