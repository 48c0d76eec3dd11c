//! The contract every storage adapter must meet: one suite per port, run unchanged against
//! memory, SQLite and PostgreSQL (see `contract_suite!`).
//!
//! The files mirror the ports: `contract/<module>/<aggregate>.rs` checks
//! `ports/src/<module>/<aggregate>.rs`, and the adapters implement it in a file of the same
//! name. Fixtures are made with the builders of [`fixtures`] (`new_user("a@x").insert(&store)`,
//! `new_couple("a@x").partner("b@x").insert(&store)`), so a check states only what it is about.
//!
//! Each check takes a fresh, empty, migrated store. Failures panic with a message naming the
//! rule, as tests do.
// The checks call the repositories directly, including the methods use cases must reach
// through the application's gates (feed, sessions, outbox).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    missing_docs
)]

pub mod admin;
pub mod couples;
pub mod fixtures;
pub mod identity;
pub mod jobs;
pub mod media;
pub mod memories;
pub mod notify;
pub mod queues;
pub mod store;

/// What every check file imports (each file uses part of it).
#[allow(unused_imports)]
pub(crate) mod prelude {
    pub(crate) use std::collections::BTreeMap;
    pub(crate) use std::sync::Arc;

    pub(crate) use accueil_domain::admin::{AuditAction, AuditEvent};
    pub(crate) use accueil_domain::couples::{
        ActionOwner, Answer, AnswerStatus, AnswerText, ChangeOp, CheckIn, Couple, CoupleId,
        EntityKind, Goal, GoalAction, GoalStatus, Invite, Letter, LetterContent, Month, Note,
        Question, QuestionText, Score, Theme, TimeLock, Title,
    };
    pub(crate) use accueil_domain::identity::{
        AvatarUrl, Bio, DisplayName, Email, EmailToken, Language, NotificationPrefs, PasswordHash,
        RefreshToken, Role, Session, SessionId, TimeZone, TokenDigest, TokenPurpose, User, UserId,
        Username,
    };
    pub(crate) use accueil_domain::notify::{
        DeliveryState, MailTemplate, OutboundMail, OutboxEntry,
    };
    pub(crate) use chrono::{DateTime, Duration, TimeZone as _, Utc};
    pub(crate) use uuid::Uuid;

    pub(crate) use super::fixtures::{
        Shared, by_id, insert_user, new_couple, new_memory, new_user, t0, user_with_session,
    };
    pub(crate) use crate::identity::UserWriteError;
    pub(crate) use crate::{Store, StoreError, StoreExt};
}

/// Generates one `#[tokio::test]` per contract check, in one test module per contract file
/// (`identity_users::round_trip`, ...). `$make` is an async expression yielding
/// `Option<Arc<dyn Store>>`: `None` means the backend is not available and the check is
/// skipped (the factory prints why, or panics when the backend is required). A new check is a
/// function in its file plus its name in the list below.
#[macro_export]
macro_rules! contract_suite {
    ($make:expr) => {
        $crate::contract_suite!(@group $make; store => store:
            rollback_discards_every_write,
            read_units_cannot_write,
            concurrent_writes_all_succeed,
            ping_answers,
            events_come_back_only_with_a_commit,
        );
        $crate::contract_suite!(@group $make; identity_users => identity::users:
            round_trip,
            email_unique_ignoring_case,
            username_unique,
            update_user,
            read_modify_write_loses_nothing,
            purge_deleted_accounts,
        );
        $crate::contract_suite!(@group $make; identity_sessions => identity::sessions:
            sessions_and_refresh_tokens,
            refresh_compare_and_set_under_concurrency,
            revoke_user_sessions,
            purge_old_sessions,
            signed_in_reads_session_and_user,
        );
        $crate::contract_suite!(@group $make; identity_email_tokens => identity::email_tokens:
            single_use_and_superseded,
            purge_expired,
        );
        $crate::contract_suite!(@group $make; identity_tickets => identity::tickets:
            taken_once_and_purged,
            one_redeemer_wins_under_concurrency,
        );
        $crate::contract_suite!(@group $make; identity_api_keys => identity::api_keys:
            lifecycle,
        );
        $crate::contract_suite!(@group $make; identity_oauth => identity::oauth:
            external_identities_and_flows,
        );
        $crate::contract_suite!(@group $make; admin_audit => admin:
            round_trip,
        );
        $crate::contract_suite!(@group $make; notify_outbox => notify:
            due_list_and_get,
            claims_are_exclusive,
            outcomes,
            counts_by_state,
        );
        $crate::contract_suite!(@group $make; jobs => jobs:
            idempotent_enqueue,
            claim_skips_leased_and_takes_over_after_expiry,
            complete_reschedules_once,
            fail_backs_off_then_gives_up,
            concurrent_claims_never_share_a_job,
            next_due_is_the_first_claimable_instant,
            claim_now_respects_leases,
            prune_keeps_what_is_recent,
            per_user_schedules_follow_their_zone,
            renewing_a_lease_holds_the_job,
        );
        $crate::contract_suite!(@group $make; couples_pairing => couples::pairing:
            membership,
            invites,
            purge_dissolved,
        );
        $crate::contract_suite!(@group $make; couples_feed => couples::feed:
            gapless_under_concurrency,
        );
        $crate::contract_suite!(@group $make; couples_qna => couples::qna:
            scoped_and_paged,
        );
        $crate::contract_suite!(@group $make; couples_goals => couples::goals:
            goals_and_actions,
            action_pages_and_counts,
        );
        $crate::contract_suite!(@group $make; couples_checkins => couples::checkins:
            one_per_day_filtered_and_paged,
            updates_keep_the_day_and_are_scoped,
        );
        $crate::contract_suite!(@group $make; couples_letters => couples::letters:
            one_per_month,
            time_locks_round_trip_and_writes_are_scoped,
        );
        $crate::contract_suite!(@group $make; memories_memory => memories::memory:
            scoped_timeline_and_search,
            couple_writers_lose_nothing,
            photo_link_generations,
        );
        $crate::contract_suite!(@group $make; memories_perspectives => memories::perspectives:
            one_per_side,
        );
        $crate::contract_suite!(@group $make; memories_shares => memories::shares:
            lifecycle,
        );
        $crate::contract_suite!(@group $make; queues_tenants => queues::tenants:
            registry,
            tenants_of_a_user,
            deleted_tenants_leave_then_go,
        );
        $crate::contract_suite!(@group $make; queues_invitations => queues::invitations:
            lifecycle,
        );
        $crate::contract_suite!(@group $make; queues_members => queues::members:
            members_stay_in_their_tenant,
            settings_of_the_bound_tenant,
        );
        $crate::contract_suite!(@group $make; queues_catalogue => queues::catalogue:
            items_round_trip_in_their_tenant,
            references_stay_in_the_tenant,
        );
        $crate::contract_suite!(@group $make; queues_customers => queues::customers:
            customers_stay_in_their_tenant,
        );
        $crate::contract_suite!(@group $make; queues_agents => queues::agents:
            profiles_follow_their_member,
        );
        $crate::contract_suite!(@group $make; queues_tickets => queues::tickets:
            numbering_and_the_line,
            the_next_ticket_follows_the_rule,
            fifty_agents_never_share_a_ticket,
        );
    };
    (@group $make:expr; $group:ident => $($path:ident)::+ : $($name:ident),* $(,)?) => {
        mod $group {
            #[allow(unused_imports)]
            use super::*;
            use $crate::contract::$($path)::+ as checks;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(store) = $make.await {
                        checks::$name(store).await;
                    }
                }
            )*
        }
    };
}
