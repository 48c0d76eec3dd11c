DROP POLICY tenant_members_isolation ON tenant_members;
DROP TABLE tenant_members;
DROP TABLE tenants;
