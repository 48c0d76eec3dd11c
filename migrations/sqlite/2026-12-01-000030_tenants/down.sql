DROP TABLE tenant_members;
DROP TABLE tenants;
