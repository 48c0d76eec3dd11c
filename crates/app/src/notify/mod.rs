//! Mail delivery from the outbox, and what operators can do with it.
//!
//! Delivery is the background job [`DELIVERY_JOB`] (`mail-delivery`), run by the jobs runner of
//! whichever instance claims it ([`NotifyService::deliver_job`]). Whatever makes an entry due
//! also enqueues a one-off `mail-delivery` job due at the same instant, in the same unit of
//! work: a new mail ([`enqueue`]), a retry after a transient failure, a failed mail put back in
//! line. So a mail leaves within the runners' poll interval of the commit that wrote it, and a
//! retry at its backoff's end, without a fast-polling loop; a recurring `mail-delivery` (once
//! a minute) sweeps up anything else (an entry whose lease ran out after a crash).
//!
//! Each due entry is claimed with a lease (a compare-and-set, so instances sharing a database
//! never send one entry twice at once), sent, then marked. A crash between sending and marking
//! leaves the lease to run out, and the entry is sent again with the same Message-ID: delivery
//! is at least once. An entry's lease never outlives the lease of the job that claimed it, so
//! the runner that takes over a crashed runner's job finds its entries due again.
//!
//! Use cases put mails in the outbox through [`enqueue`] only, with a [`UserMail`] (a mail for
//! one user): it is the one place the recipient's notification preferences are applied, by the
//! template's category ([`MailCategory`]). Calling the port's `OutboxRepo::enqueue` anywhere
//! else is refused by clippy (`disallowed-methods` in `clippy.toml`), so no later mail can
//! forget the gate.

use std::collections::BTreeMap;

use accueil_domain::identity::{Email, NotificationPrefs, User};
use accueil_domain::jobs::{Job, JobKey, JobName};
use accueil_domain::notify::{
    DeliveryState, MAX_ATTEMPTS, MailCategory, MailTemplate, OutboundMail, OutboxEntry, RETRY_BASE,
    backoff,
};
use accueil_ports::notify::SendError;
use accueil_ports::{StoreError, StoreExt, Tx};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::Ports;

/// A template's values, with the greeting `name`.
fn with_name(vars: &[(&str, String)], name: String) -> BTreeMap<String, String> {
    let mut all: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    all.insert("name".into(), name);
    all
}

/// A mail for one user, in their language, greeting them by name: what [`enqueue`] takes.
#[derive(Debug, Clone)]
pub struct UserMail {
    entry: OutboxEntry,
    prefs: NotificationPrefs,
}

impl UserMail {
    /// A mail of `template` for `recipient`, sent to `to` (their address unless said otherwise:
    /// an address change confirms at the new one), with `vars` and `name` (their greeting
    /// name).
    pub fn new(
        id: Uuid,
        recipient: &User,
        to: Option<&Email>,
        template: MailTemplate,
        vars: &[(&str, String)],
        now: DateTime<Utc>,
    ) -> Self {
        let mail = OutboundMail {
            to: to.unwrap_or(&recipient.email).clone(),
            language: recipient.language,
            template,
            vars: with_name(vars, recipient.greeting_name()),
        };
        Self {
            entry: OutboxEntry::new(id, mail, now),
            prefs: recipient.notifications,
        }
    }

    /// A mail of `template` to `to`, who may have no account, in `language`, greeted as
    /// `name`: sent whatever any account's preferences say, so only for categories that are
    /// always sent (an invitation).
    pub fn to_guest(
        id: Uuid,
        to: &Email,
        name: String,
        language: accueil_domain::identity::Language,
        template: MailTemplate,
        vars: &[(&str, String)],
        now: DateTime<Utc>,
    ) -> Self {
        let mail = OutboundMail {
            to: to.clone(),
            language,
            template,
            vars: with_name(vars, name),
        };
        Self {
            entry: OutboxEntry::new(id, mail, now),
            prefs: NotificationPrefs::default(),
        }
    }

    /// The entry the outbox gets.
    pub fn entry(&self) -> &OutboxEntry {
        &self.entry
    }

    /// Whether the recipient wants it: account mails always, the others by the preferences.
    pub fn wanted(&self) -> bool {
        self.category().wanted_by(&self.prefs)
    }

    /// The category of its template.
    pub fn category(&self) -> MailCategory {
        self.entry.mail.template.category()
    }
}

/// Puts `mail` in the outbox in the caller's unit of work, unless its recipient turned off
/// mails of its category (then nothing is written). Returns whether it was enqueued.
///
/// # Errors
/// A [`StoreError`] from the outbox.
pub fn enqueue(tx: &mut dyn Tx, mail: &UserMail) -> Result<bool, StoreError> {
    if !mail.wanted() {
        tracing::debug!(
            template = mail.entry.mail.template.as_str(),
            "mail not enqueued: the recipient turned these mails off"
        );
        return Ok(false);
    }
    // The gate: the one call of the port's method outside its contract checks.
    #[allow(clippy::disallowed_methods)]
    tx.outbox().enqueue(&mail.entry)?;
    // The wake-up has the entry's id: one per entry, and no id generator needed here.
    let entry = &mail.entry;
    wake(
        tx,
        entry.id,
        &format!("mail:{}", entry.id),
        entry.next_attempt_at,
    )?;
    Ok(true)
}

/// The job that delivers the outbox.
pub const DELIVERY_JOB: &str = "mail-delivery";

/// [`DELIVERY_JOB`] as a name.
pub fn delivery_job() -> JobName {
    JobName::from_trusted(DELIVERY_JOB.to_owned())
}

/// Enqueues a one-off delivery job due at `at`, with `key` (unique per reason).
fn wake(tx: &mut dyn Tx, id: Uuid, key: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
    let key = JobKey::parse(key).map_err(|e| StoreError::Internal(e.to_string()))?;
    tx.jobs()
        .enqueue(&Job::one_off(id, delivery_job(), key, at))
        .map(|_| ())
}

/// How long a worker holds an entry while sending it.
const LEASE: i64 = 120;
/// Entries taken per round.
const BATCH: u32 = 32;

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Accepted by the mail server.
    pub sent: u32,
    /// Failed for now; due again later.
    pub retried: u32,
    /// Failed for good.
    pub failed: u32,
}

/// The outbox service.
#[derive(Clone)]
pub struct NotifyService {
    ports: Ports,
    retry_base: Duration,
}

impl NotifyService {
    /// A service over these ports, retrying after 15 s, 30 s, 1 min...
    pub fn new(ports: Ports) -> Self {
        Self {
            ports,
            retry_base: RETRY_BASE,
        }
    }

    /// The same with another first retry delay (tests, or an impatient deployment).
    #[must_use]
    pub fn with_retry_base(mut self, base: Duration) -> Self {
        self.retry_base = base;
        self
    }

    /// Delivers the entries due now (one round, at most a batch).
    ///
    /// # Errors
    /// A [`StoreError`] when the outbox cannot be read or updated (the round stops; entries it
    /// had claimed become due again when their lease runs out).
    pub async fn deliver_due(&self) -> Result<DeliveryReport, StoreError> {
        self.deliver_due_within(None).await
    }

    /// The `mail-delivery` job: rounds of [`NotifyService::deliver_due`] until the outbox has
    /// no more due entries than a round takes, within the job's lease (each entry's lease ends
    /// with it, and no entry is claimed after it).
    ///
    /// # Errors
    /// The store's error as the run's message.
    pub async fn deliver_job(&self, job: Job) -> Result<(), String> {
        let deadline = job.lease.map(|l| l.until);
        let mut total = DeliveryReport::default();
        loop {
            let round = self
                .deliver_due_within(deadline)
                .await
                .map_err(|e| e.to_string())?;
            total.sent += round.sent;
            total.retried += round.retried;
            total.failed += round.failed;
            let full = round.sent + round.retried + round.failed >= BATCH;
            if !full || deadline.is_some_and(|d| self.ports.clock.now() >= d) {
                break;
            }
        }
        if total != DeliveryReport::default() {
            tracing::debug!(
                sent = total.sent,
                retried = total.retried,
                failed = total.failed,
                "mail delivery round"
            );
        }
        Ok(())
    }

    /// One round; with a `deadline` (the job's lease end), entries are leased until it at most,
    /// and none is claimed once it has passed.
    async fn deliver_due_within(
        &self,
        deadline: Option<DateTime<Utc>>,
    ) -> Result<DeliveryReport, StoreError> {
        let store = &self.ports.store;
        let now = self.ports.clock.now();
        let due = store.read(move |tx| tx.outbox().due(now, BATCH)).await?;
        let mut report = DeliveryReport::default();
        for entry in due {
            let id = entry.id;
            let now = self.ports.clock.now();
            if deadline.is_some_and(|d| now >= d) {
                break; // the job's lease is over: another runner may hold it now
            }
            let lease = deadline.map_or(now + Duration::seconds(LEASE), |d| {
                d.min(now + Duration::seconds(LEASE))
            });
            if !store
                .write(move |tx| tx.outbox().claim(id, now, lease))
                .await?
            {
                continue; // another worker took it
            }
            let attempt = entry.attempts + 1;
            let result = self.ports.mailer.send(id, &entry.mail).await;
            let at = self.ports.clock.now();
            let template = entry.mail.template.as_str();
            match result {
                Ok(()) => {
                    store.write(move |tx| tx.outbox().mark_sent(id, at)).await?;
                    tracing::info!(outbox_id = %id, template, attempt, "mail sent");
                    report.sent += 1;
                }
                Err(SendError::Transient(e)) if attempt < MAX_ATTEMPTS => {
                    let next = at + backoff(self.retry_base, attempt);
                    let msg = e.clone();
                    let job_id = self.ports.ids.new_id();
                    store
                        .write(move |tx| {
                            tx.outbox().mark_retry(id, next, &msg)?;
                            wake(tx, job_id, &format!("mail:{id}:retry:{attempt}"), next)
                        })
                        .await?;
                    tracing::warn!(outbox_id = %id, template, attempt, error = %e, retry_at = %next, "mail delivery failed; will retry");
                    report.retried += 1;
                }
                Err(SendError::Transient(e) | SendError::Permanent(e)) => {
                    let msg = e.clone();
                    store
                        .write(move |tx| tx.outbox().mark_failed(id, &msg))
                        .await?;
                    tracing::error!(outbox_id = %id, template, attempt, error = %e, "mail delivery failed for good");
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    /// Entries in `state` (all when `None`), newest first.
    ///
    /// # Errors
    /// A [`StoreError`].
    pub async fn list(
        &self,
        state: Option<DeliveryState>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.ports
            .store
            .read(move |tx| tx.outbox().list(state, limit))
            .await
    }

    /// How many outbox entries are in each state, every state listed (zero when it has none),
    /// so a scrape always shows the same series.
    ///
    /// # Errors
    /// A [`StoreError`].
    pub async fn backlog(&self) -> Result<Vec<(DeliveryState, u64)>, StoreError> {
        let found = self
            .ports
            .store
            .read(|tx| tx.outbox().count_by_state())
            .await?;
        Ok([
            DeliveryState::Pending,
            DeliveryState::Failed,
            DeliveryState::Sent,
        ]
        .into_iter()
        .map(|s| {
            let n = found.iter().find(|(f, _)| *f == s).map_or(0, |(_, n)| *n);
            (s, n)
        })
        .collect())
    }

    /// Puts a failed entry back in line, with a delivery job due now. Returns whether it was
    /// failed.
    ///
    /// # Errors
    /// A [`StoreError`].
    pub async fn retry(&self, id: Uuid) -> Result<bool, StoreError> {
        let now = self.ports.clock.now();
        let job_id = self.ports.ids.new_id();
        self.ports
            .store
            .write(move |tx| {
                let requeued = tx.outbox().requeue(id, now)?;
                if requeued {
                    wake(tx, job_id, &format!("mail:{id}:requeue:{job_id}"), now)?;
                }
                Ok(requeued)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use accueil_domain::notify::MailTemplate;
    use accueil_ports::notify::MockMailer;
    use chrono::Duration;

    use super::*;
    use crate::testing::Harness;

    async fn one_pending(h: &Harness) -> Uuid {
        h.registered("ann@example.org", None).await;
        h.last_mail(MailTemplate::VerifyEmail).await.id
    }

    #[tokio::test]
    async fn the_backlog_lists_every_state() {
        let h = Harness::new();
        let notify = NotifyService::new(h.ports_with_mailer(Arc::new(MockMailer::new())));
        let zero = vec![
            (DeliveryState::Pending, 0),
            (DeliveryState::Failed, 0),
            (DeliveryState::Sent, 0),
        ];
        assert_eq!(notify.backlog().await.unwrap(), zero);
        one_pending(&h).await;
        let notify = NotifyService::new(h.ports_with_mailer(Arc::new(MockMailer::new())));
        assert_eq!(
            notify.backlog().await.unwrap()[0],
            (DeliveryState::Pending, 1)
        );
    }

    #[tokio::test]
    async fn sends_due_mail_once_with_its_entry_id() {
        let h = Harness::new();
        let id = one_pending(&h).await;
        let mut mailer = MockMailer::new();
        mailer
            .expect_send()
            .withf(move |mid, mail| *mid == id && mail.template == MailTemplate::VerifyEmail)
            .times(1)
            .returning(|_, _| Ok(()));
        let notify = NotifyService::new(h.ports_with_mailer(Arc::new(mailer)));
        assert_eq!(
            notify.deliver_due().await.unwrap(),
            DeliveryReport {
                sent: 1,
                retried: 0,
                failed: 0
            }
        );
        assert_eq!(
            notify.deliver_due().await.unwrap(),
            DeliveryReport::default(),
            "nothing left"
        );
        let entry = notify.list(Some(DeliveryState::Sent), 10).await.unwrap();
        assert_eq!(entry[0].id, id);
    }

    #[tokio::test]
    async fn transient_failures_back_off_then_succeed() {
        let h = Harness::new();
        let id = one_pending(&h).await;
        let mut mailer = MockMailer::new();
        let mut seq = mockall::Sequence::new();
        mailer
            .expect_send()
            .times(2)
            .in_sequence(&mut seq)
            .returning(|_, _| Err(SendError::Transient("connection refused".into())));
        mailer
            .expect_send()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(()));
        let notify = NotifyService::new(h.ports_with_mailer(Arc::new(mailer)));
        assert_eq!(notify.deliver_due().await.unwrap().retried, 1);
        assert_eq!(
            notify.deliver_due().await.unwrap(),
            DeliveryReport::default(),
            "not before its backoff"
        );
        h.advance(backoff(RETRY_BASE, 1));
        assert_eq!(notify.deliver_due().await.unwrap().retried, 1);
        h.advance(backoff(RETRY_BASE, 2));
        assert_eq!(notify.deliver_due().await.unwrap().sent, 1);
        let all = notify.list(None, 10).await.unwrap();
        let e = all.iter().find(|e| e.id == id).unwrap();
        assert_eq!((e.state, e.attempts), (DeliveryState::Sent, 3));
        assert_eq!(
            e.last_error.as_deref(),
            Some("connection refused"),
            "the last error is kept"
        );
    }

    #[tokio::test]
    async fn permanent_failures_stop_and_can_be_retried_by_hand() {
        let h = Harness::new();
        let id = one_pending(&h).await;
        let mut mailer = MockMailer::new();
        let mut seq = mockall::Sequence::new();
        mailer
            .expect_send()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Err(SendError::Permanent("550 mailbox unavailable".into())));
        mailer
            .expect_send()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(()));
        let notify = NotifyService::new(h.ports_with_mailer(Arc::new(mailer)));
        assert_eq!(notify.deliver_due().await.unwrap().failed, 1);
        h.advance(Duration::days(1));
        assert_eq!(
            notify.deliver_due().await.unwrap(),
            DeliveryReport::default(),
            "failed entries wait for an operator"
        );
        let failed = notify.list(Some(DeliveryState::Failed), 10).await.unwrap();
        assert_eq!(
            failed[0].last_error.as_deref(),
            Some("550 mailbox unavailable")
        );
        assert!(notify.retry(id).await.unwrap());
        assert_eq!(notify.deliver_due().await.unwrap().sent, 1);
    }

    #[tokio::test]
    async fn transient_failures_turn_permanent_after_the_last_attempt() {
        let h = Harness::new();
        one_pending(&h).await;
        let mut mailer = MockMailer::new();
        mailer
            .expect_send()
            .times(MAX_ATTEMPTS as usize)
            .returning(|_, _| Err(SendError::Transient("451 later".into())));
        let notify = NotifyService::new(h.ports_with_mailer(Arc::new(mailer)));
        let mut failed = 0;
        for _ in 0..MAX_ATTEMPTS {
            failed += notify.deliver_due().await.unwrap().failed;
            h.advance(Duration::hours(7));
        }
        assert_eq!(failed, 1);
    }
}
