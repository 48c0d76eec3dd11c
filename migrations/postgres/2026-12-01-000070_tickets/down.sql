DROP POLICY ticket_events_isolation ON ticket_events;
DROP POLICY tickets_isolation ON tickets;
DROP POLICY service_days_isolation ON service_days;
DROP TABLE ticket_events;
DROP TABLE tickets;
DROP TABLE service_days;
