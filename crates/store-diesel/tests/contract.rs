//! The storage contract, run against SQLite and PostgreSQL: the same test bodies as memory.
#![allow(clippy::expect_used)]

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
        // A panic in the factory (REQUIRE_POSTGRES=1 and no server) must fail the test, not
        // turn into a skip.
        let made = tokio::task::spawn_blocking(accueil_store_diesel::testing::postgres)
            .await
            .expect("the PostgreSQL test database");
        made.map(|s| Arc::new(s) as Arc<dyn Store>)
    }

    accueil_ports::contract_suite!(store());
}
