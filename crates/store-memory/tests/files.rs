//! The file-store contract on the in-memory adapter.

#[tokio::test]
async fn the_memory_file_store_meets_the_contract() {
    accueil_ports::contract::media::file_store(&accueil_store_memory::MemoryFileStore::new()).await;
}
