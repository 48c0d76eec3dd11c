//! The storage contract, run against SQLite and PostgreSQL: the same test bodies as memory.

mod sqlite {
    use std::sync::Arc;

    use accueil_ports::Store;

    async fn store() -> Option<Arc<dyn Store>> {
        Some(Arc::new(accueil_store_diesel::testing::sqlite()))
    }

    accueil_ports::contract_suite!(store());
}

mod postgres {
    use std::sync::Arc;

    use accueil_ports::Store;

    async fn store() -> Option<Arc<dyn Store>> {
        let made = tokio::task::spawn_blocking(accueil_store_diesel::testing::postgres)
            .await
            .ok()?;
        made.map(|s| Arc::new(s) as Arc<dyn Store>)
    }

    accueil_ports::contract_suite!(store());
}
