//! The file-store contract on the local-disk adapter.
#![allow(clippy::unwrap_used)]

#[tokio::test]
async fn the_local_file_store_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = accueil_media::LocalFileStore::open(dir.path()).unwrap();
    accueil_ports::contract::media::file_store(&store).await;
}
