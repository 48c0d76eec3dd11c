DROP POLICY tenant_invitations_isolation ON tenant_invitations;
DROP TABLE tenant_invitations;
