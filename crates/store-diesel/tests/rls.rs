//! Row-level security on PostgreSQL, seen from outside the adapter: connected as the ordinary
//! role the server runs as (the test database's owner, neither superuser nor `BYPASSRLS`),
//! a tenant table shows no row without the tenant setting or with another tenant's, and
//! refuses a row for another tenant; and every table with a `tenant_id` has the policy forced.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use accueil_domain::identity::{Email, Language, NewUser, PasswordHash, Role as UserRole, UserId};
use accueil_domain::queues::{NewTenant, TenantId};
use accueil_ports::{StoreError, StoreExt};
use accueil_store_diesel::testing;
use chrono::Utc;
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use uuid::Uuid;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Table {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    enabled: bool,
    #[diesel(sql_type = Bool)]
    forced: bool,
}

#[derive(QueryableByName)]
struct Attributes {
    #[diesel(sql_type = Bool)]
    rolsuper: bool,
    #[diesel(sql_type = Bool)]
    rolbypassrls: bool,
}

fn members(conn: &mut PgConnection) -> i64 {
    diesel::sql_query("SELECT count(*) AS n FROM tenant_members")
        .get_result::<Count>(conn)
        .unwrap()
        .n
}

fn set(conn: &mut PgConnection, name: &str, value: &str) {
    diesel::sql_query("SELECT set_config($1, $2, true)")
        .bind::<Text, _>(name)
        .bind::<Text, _>(value)
        .execute(conn)
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_rows_need_their_tenant_setting() {
    let Some(db) = tokio::task::spawn_blocking(testing::postgres)
        .await
        .expect("the PostgreSQL test database")
    else {
        return;
    };
    // Two tenants, each with its ADMIN, written through the store (which sets what it must).
    let mut tenants = Vec::new();
    for (slug, email) in [("acme", "ann@example.org"), ("other", "eve@example.org")] {
        let now = Utc::now();
        let user = NewUser {
            email: Email::parse(email).unwrap(),
            username: None,
            display_name: None,
            password_hash: PasswordHash::new("$2b$04$x".into()),
            role: UserRole::User,
            language: Language::En,
        }
        .into_user(UserId(Uuid::now_v7()), now);
        let tenant = NewTenant::parse(slug, slug, "UTC", None)
            .unwrap()
            .into_tenant(TenantId(Uuid::now_v7()), now);
        let (t, u) = (tenant.clone(), user.clone());
        db.write(move |tx| {
            let failed = |e: &dyn std::fmt::Display| StoreError::Internal(e.to_string());
            tx.users().insert_user(&u).map_err(|e| failed(&e))?;
            tx.tenants().create_tenant(&t, u.id).map_err(|e| failed(&e))
        })
        .await
        .unwrap();
        tenants.push((tenant.id, user.id));
    }
    let ((acme, ann), (other, _)) = (tenants[0], tenants[1]);

    let url = db.url();
    tokio::task::spawn_blocking(move || {
        let mut conn = PgConnection::establish(&url).unwrap();
        let me: Attributes = diesel::sql_query(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
        )
        .get_result(&mut conn)
        .unwrap();
        assert!(
            !me.rolsuper && !me.rolbypassrls,
            "the test must not skip the policies"
        );

        assert_eq!(members(&mut conn), 0, "no tenant setting: no rows");
        conn.test_transaction::<_, diesel::result::Error, _>(|conn| {
            set(conn, "accueil.tenant_id", &other.to_string());
            assert_eq!(members(conn), 1, "the other tenant's own member only");
            // A row for acme cannot be written under the other tenant's setting.
            let refused = diesel::sql_query(
                "INSERT INTO tenant_members (tenant_id, user_id, role, created_at, updated_at) \
                 VALUES ($1, $2, 'AGENT', now(), now())",
            )
            .bind::<Text, _>(acme.to_string())
            .bind::<Text, _>(Uuid::now_v7().to_string())
            .execute(conn);
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|e| e.to_string().contains("row-level security")),
                "{refused:?}"
            );
            Ok(())
        });
        conn.test_transaction::<_, diesel::result::Error, _>(|conn| {
            set(conn, "accueil.tenant_id", &acme.to_string());
            assert_eq!(members(conn), 1);
            set(conn, "accueil.tenant_id", "");
            set(conn, "accueil.user_id", &ann.to_string());
            assert_eq!(members(conn), 1, "a user's own memberships, for the gate");
            Ok(())
        });
        assert_eq!(
            members(&mut conn),
            0,
            "the settings ended with their transaction"
        );

        // Every table that belongs to a tenant has the policy enabled and forced.
        let tables: Vec<Table> = diesel::sql_query(
            "SELECT c.relname::text AS name, c.relrowsecurity AS enabled, \
                    c.relforcerowsecurity AS forced \
             FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace \
             WHERE s.nspname = 'public' AND c.relkind = 'r' AND EXISTS ( \
               SELECT FROM information_schema.columns k \
               WHERE k.table_schema = 'public' AND k.table_name = c.relname \
                 AND k.column_name = 'tenant_id') \
             ORDER BY 1",
        )
        .load(&mut conn)
        .unwrap();
        assert!(!tables.is_empty());
        for t in &tables {
            assert!(
                t.enabled && t.forced,
                "{}: row-level security not forced",
                t.name
            );
        }
    })
    .await
    .unwrap();
}
