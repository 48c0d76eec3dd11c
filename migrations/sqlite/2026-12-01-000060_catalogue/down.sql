DROP TABLE agent_queues;
DROP TABLE agent_profiles;
DROP TABLE customers;
DROP TABLE counters;
DROP TABLE queues;
DROP TABLE services;
DROP TABLE sites;
