//! The storage contract, run against the in-memory store.

use std::sync::Arc;

use accueil_ports::Store;
use accueil_store_memory::MemoryStore;

async fn memory() -> Option<Arc<dyn Store>> {
    Some(Arc::new(MemoryStore::new()))
}

accueil_ports::contract_suite!(memory());
