//! End to end: SmartQueue. Tenants and their members now: who may see and change what, as the
//! scope table says, on SQLite and on PostgreSQL (where the server runs as an ordinary role,
//! under row-level security).

mod catalogue;
mod invitations;
mod tenants;
mod tickets;
