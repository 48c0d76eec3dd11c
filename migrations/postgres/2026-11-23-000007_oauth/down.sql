DROP TABLE oauth_pending_links;
DROP TABLE oauth_flows;
DROP TABLE external_identities;
