//! Module lifecycle hooks: what each module does when an account is exported or deleted (or may
//! not be deleted yet) or changes its time zone, when a couple is exported, and when old data
//! is purged.
//!
//! Identity owns the account lifecycle but not the other modules' data: instead of calling
//! them by hand, it calls every registered module's [`Lifecycle`], inside its own unit of work
//! (so a deletion and everything it causes in every module commit together). A new module
//! implements [`Lifecycle`] and is registered in [`crate::App::new`]; nothing else changes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use accueil_domain::admin::AuditEvent;
use accueil_domain::couples::{CheckIn, CoupleId, LetterView, SHARED_CONTENT_RETENTION};
use accueil_domain::identity::{ApiKey, ExternalIdentity, Session, User, UserId};
use accueil_domain::memories::{Memory, Share};
use accueil_ports::{StoreError, Tx};
use chrono::{DateTime, Utc};

use crate::couples::{CoupleView, GoalWithActions, QuestionView};
use crate::memories::PerspectiveView;

/// What a module's purge returns: a future, since purging files is asynchronous.
pub type PurgeFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// One module's part in the lifecycle of accounts and couples. Every method but `name` has a
/// default that does nothing, for modules without such data.
pub trait Lifecycle: Send + Sync {
    /// The module's name, for logs.
    fn name(&self) -> &'static str;

    /// Why the account `user` may not be deleted now, if the module has a reason (the last
    /// ADMIN of a tenant must hand it over first): asked inside the deletion's unit of work,
    /// before anything changes.
    ///
    /// # Errors
    /// The store's error.
    fn account_deletion_blocked(
        &self,
        tx: &mut dyn Tx,
        user: UserId,
    ) -> Result<Option<String>, StoreError> {
        let _ = (tx, user);
        Ok(None)
    }

    /// The account `user` is being deleted: remove or detach what the module holds about it,
    /// inside the deletion's unit of work.
    ///
    /// # Errors
    /// The store's error (the deletion then rolls back).
    fn account_deleted(
        &self,
        tx: &mut dyn Tx,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let _ = (tx, user, now);
        Ok(())
    }

    /// `user`'s time zone has just changed (`user` as updated): move what runs on their clock
    /// (their per-user schedules, [`crate::jobs::UserSchedule`]), inside the change's unit of
    /// work.
    ///
    /// # Errors
    /// The store's error (the change then rolls back).
    fn time_zone_changed(
        &self,
        tx: &mut dyn Tx,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let _ = (tx, user, now);
        Ok(())
    }

    /// Adds what the module holds about `user` to their personal export, inside the export's
    /// unit of work.
    ///
    /// # Errors
    /// The store's error.
    fn export_account(
        &self,
        tx: &mut dyn Tx,
        user: &User,
        now: DateTime<Utc>,
        into: &mut AccountExport,
    ) -> Result<(), StoreError> {
        let _ = (tx, user, now, into);
        Ok(())
    }

    /// Adds the module's content of `into.couple` to a couple export made for `viewer` (a
    /// partner), inside the export's unit of work.
    ///
    /// # Errors
    /// The store's error.
    fn export_couple(
        &self,
        tx: &mut dyn Tx,
        viewer: UserId,
        into: &mut CoupleExport,
    ) -> Result<(), StoreError> {
        let _ = (tx, viewer, into);
        Ok(())
    }

    /// Removes what has outlived its retention at `now`, in units of work of its own; `log`
    /// carries what earlier modules purged (a module's files may belong to a purged couple).
    fn purge<'a>(&'a self, now: DateTime<Utc>, log: &'a mut PurgeLog) -> PurgeFuture<'a> {
        let _ = (now, log);
        Box::pin(async { Ok(()) })
    }
}

/// What a purge removed, module by module, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeLog {
    /// Couples dissolved past their retention, removed with their content.
    pub couples: Vec<CoupleId>,
    /// Purged couples whose files could not be deleted (see the log).
    pub file_failures: u64,
}

/// Everything stored about a user: the account and every module's part.
#[derive(Debug, Clone)]
pub struct AccountExport {
    /// The account.
    pub user: User,
    /// Every session (login), live or ended.
    pub sessions: Vec<Session>,
    /// Security events about the account.
    pub audit: Vec<AuditEvent>,
    /// The sign-in providers linked to the account.
    pub identities: Vec<ExternalIdentity>,
    /// The account's API keys (metadata; their secrets are never stored).
    pub api_keys: Vec<ApiKey>,
    /// The user's couple and its content, while they are in it or may still export it.
    pub couple: Option<CoupleExport>,
    /// The tenants the user is a member of, with their role (SmartQueue).
    pub tenants: Vec<(accueil_domain::queues::Tenant, accueil_domain::queues::Role)>,
}

/// Everything of a couple a partner may take with them.
#[derive(Debug, Clone)]
pub struct CoupleExport {
    /// The couple and partners.
    pub couple: CoupleView,
    /// When the export is made (what time-locked letters are judged against).
    pub at: DateTime<Utc>,
    /// Every question, as the viewer may see it (mutual reveal applies).
    pub questions: Vec<QuestionView>,
    /// Every goal with its actions.
    pub goals: Vec<GoalWithActions>,
    /// Both partners' check-ins.
    pub checkins: Vec<CheckIn>,
    /// Every letter, as the viewer may see it (a letter still sealed for them at `at` comes
    /// without its content).
    pub letters: Vec<LetterView>,
    /// Every memory (their photos are fetched with the export's photo links).
    pub memories: Vec<Memory>,
    /// Both perspective slots.
    pub perspectives: Vec<PerspectiveView>,
    /// Every share link, in every state (never their tokens).
    pub shares: Vec<Share>,
}

impl CoupleExport {
    /// An export of this couple made at `at`, with no content yet.
    pub fn of(couple: CoupleView, at: DateTime<Utc>) -> Self {
        Self {
            couple,
            at,
            questions: Vec::new(),
            goals: Vec::new(),
            checkins: Vec::new(),
            letters: Vec::new(),
            memories: Vec::new(),
            perspectives: Vec::new(),
            shares: Vec::new(),
        }
    }
}

/// The registered modules, in the order their hooks run.
#[derive(Clone, Default)]
pub struct Hooks(Arc<Vec<Arc<dyn Lifecycle>>>);

impl Hooks {
    /// These modules, in this order.
    pub fn new(modules: Vec<Arc<dyn Lifecycle>>) -> Self {
        Self(Arc::new(modules))
    }

    /// The first module's reason not to delete `user`'s account now, if any.
    ///
    /// # Errors
    /// The first store error.
    pub fn account_deletion_blocked(
        &self,
        tx: &mut dyn Tx,
        user: UserId,
    ) -> Result<Option<String>, StoreError> {
        for m in self.0.iter() {
            if let Some(why) = m.account_deletion_blocked(tx, user)? {
                return Ok(Some(why));
            }
        }
        Ok(None)
    }

    /// Every module's `account_deleted`, inside the caller's unit of work.
    ///
    /// # Errors
    /// The first store error.
    pub fn account_deleted(
        &self,
        tx: &mut dyn Tx,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.0
            .iter()
            .try_for_each(|m| m.account_deleted(tx, user, now))
    }

    /// Every module's `time_zone_changed`, inside the caller's unit of work.
    ///
    /// # Errors
    /// The first store error.
    pub fn time_zone_changed(
        &self,
        tx: &mut dyn Tx,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.0
            .iter()
            .try_for_each(|m| m.time_zone_changed(tx, user, now))
    }

    /// Every module's part of `user`'s personal export, inside the caller's unit of work.
    ///
    /// # Errors
    /// The first store error.
    pub fn export_account(
        &self,
        tx: &mut dyn Tx,
        user: &User,
        now: DateTime<Utc>,
        into: &mut AccountExport,
    ) -> Result<(), StoreError> {
        into.couple = self.couple_export(tx, user.id, now)?;
        self.0
            .iter()
            .try_for_each(|m| m.export_account(tx, user, now, into))
    }

    /// The export of `viewer`'s couple: the active one, or the last one dissolved less than
    /// [`SHARED_CONTENT_RETENTION`] ago (read-only), with every module's content. `None` when
    /// there is none.
    ///
    /// # Errors
    /// The first store error.
    pub fn couple_export(
        &self,
        tx: &mut dyn Tx,
        viewer: UserId,
        now: DateTime<Utc>,
    ) -> Result<Option<CoupleExport>, StoreError> {
        let Some(couple) = exportable_couple(tx, viewer, now)? else {
            return Ok(None);
        };
        let (partner_a, partner_b) = crate::couples::partners(tx, &couple)?;
        let mut export = CoupleExport::of(
            CoupleView {
                couple,
                partner_a,
                partner_b,
            },
            now,
        );
        for m in self.0.iter() {
            m.export_couple(tx, viewer, &mut export)?;
        }
        Ok(Some(export))
    }

    /// Every module's purge, in order.
    ///
    /// # Errors
    /// The first module's failure, naming the module; what was purged before stays purged.
    pub async fn purge(&self, now: DateTime<Utc>) -> Result<PurgeLog, String> {
        let mut log = PurgeLog::default();
        for m in self.0.iter() {
            m.purge(now, &mut log)
                .await
                .map_err(|e| format!("{}: {e}", m.name()))?;
        }
        Ok(log)
    }
}

/// The couple `viewer` may export at `now`: the active one, or the last one dissolved less
/// than the retention ago.
pub(crate) fn exportable_couple(
    tx: &mut dyn Tx,
    viewer: UserId,
    now: DateTime<Utc>,
) -> Result<Option<accueil_domain::couples::Couple>, StoreError> {
    Ok(tx.pairing().latest_couple_of(viewer)?.filter(|c| {
        c.dissolved_at
            .is_none_or(|d| now < d + SHARED_CONTENT_RETENTION)
    }))
}
