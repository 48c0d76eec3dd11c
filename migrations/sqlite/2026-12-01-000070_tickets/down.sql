DROP TABLE ticket_events;
DROP TABLE tickets;
DROP TABLE service_days;
