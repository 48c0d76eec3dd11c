//! Pairing: create, invite, join, leave and view a couple.

use accueil_domain::couples::{
    ChangeOp, Couple, CoupleId, EntityKind, Invite, InviteProblem, InviteTtl, JoinProblem, can_join,
};
use accueil_domain::identity::User;
use accueil_domain::notify::MailTemplate;
use accueil_ports::StoreError;

use super::{CouplesService, dissolve_couple_of, partners};
use crate::identity::{AuthError, Caller, RateLimited, ip_key};
use crate::notify::UserMail;
use crate::scope::{CoupleDenied, InCoupleError, NotInCouple};

/// A couple with its partners.
#[derive(Debug, Clone)]
pub struct CoupleView {
    /// The couple.
    pub couple: Couple,
    /// Partner A.
    pub partner_a: User,
    /// Partner B, once joined.
    pub partner_b: Option<User>,
}

/// Why creating a couple failed. Viewing and leaving the couple fail only as their scope can
/// ([`InCoupleError`]).
#[derive(Debug, thiserror::Error)]
pub enum CreateCoupleError {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The caller is in a couple already.
    #[error("you are in a couple already")]
    AlreadyInCouple,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an invite could not be made.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    /// Not authenticated, or in no couple.
    #[error(transparent)]
    Denied(#[from] CoupleDenied),
    /// The couple has both partners.
    #[error("the couple has both partners")]
    CoupleFull,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why joining failed.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// Not authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The code, the caller or the couple.
    #[error(transparent)]
    Refused(#[from] JoinProblem),
    /// Too many attempts: the million codes cannot be walked.
    #[error(transparent)]
    RateLimited(#[from] RateLimited),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<InviteProblem> for JoinError {
    fn from(p: InviteProblem) -> Self {
        Self::Refused(p.into())
    }
}

impl CouplesService {
    /// Creates a couple with the caller as partner A.
    ///
    /// # Errors
    /// See [`CreateCoupleError`].
    pub async fn create(&self, caller: &Caller) -> Result<CoupleView, CreateCoupleError> {
        let id = CoupleId(self.ports.ids.new_id());
        self.ports
            .write_as(caller, move |cx| -> Result<CoupleView, CreateCoupleError> {
                let me = cx.me.user.clone();
                if cx
                    .tx
                    .pairing()
                    .active_couple_of_for_update(me.id)?
                    .is_some()
                {
                    return Err(CreateCoupleError::AlreadyInCouple);
                }
                let couple = Couple::create(id, me.id, cx.now);
                cx.tx.pairing().insert_couple(&couple)?;
                super::record_change(
                    cx.tx,
                    couple.id,
                    EntityKind::Couple,
                    couple.id.0,
                    ChangeOp::Upsert,
                    cx.now,
                )?;
                Ok(CoupleView {
                    couple,
                    partner_a: me,
                    partner_b: None,
                })
            })
            .await
    }

    /// The caller's couple with both partners.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn get(&self, caller: &Caller) -> Result<CoupleView, InCoupleError> {
        self.ports
            .read_in_couple(caller, |cx| -> Result<CoupleView, InCoupleError> {
                let (partner_a, partner_b) = partners(cx.tx, &cx.couple)?;
                Ok(CoupleView {
                    couple: cx.couple.clone(),
                    partner_a,
                    partner_b,
                })
            })
            .await
    }

    /// Makes a new invite code (revoking the previous one).
    ///
    /// # Errors
    /// See [`InviteError`].
    pub async fn invite(&self, caller: &Caller, ttl: InviteTtl) -> Result<Invite, InviteError> {
        let id = self.ports.ids.new_id();
        let tokens = self.ports.opaque_tokens.clone();
        self.ports
            .write_in_couple(caller, move |cx| -> Result<Invite, InviteError> {
                if cx.couple.is_full() {
                    return Err(InviteError::CoupleFull);
                }
                for revoked in cx.tx.pairing().revoke_invites(cx.couple.id, cx.now)? {
                    cx.changed(EntityKind::Invite, revoked, ChangeOp::Upsert)?;
                }
                // Codes are unique among live invites; a collision is rare (a million codes),
                // so a few draws always find a free one.
                let mut code = tokens.numeric_code(6);
                for _ in 0..20 {
                    if !cx.tx.pairing().live_code_exists(&code, cx.now)? {
                        break;
                    }
                    code = tokens.numeric_code(6);
                }
                let invite = Invite {
                    id,
                    couple_id: cx.couple.id,
                    code,
                    created_by: cx.me.user.id,
                    created_at: cx.now,
                    expires_at: cx.now + ttl.duration(),
                    used_at: None,
                    revoked_at: None,
                };
                cx.tx.pairing().insert_invite(&invite)?;
                cx.changed(EntityKind::Invite, invite.id, ChangeOp::Upsert)?;
                Ok(invite)
            })
            .await
    }

    /// Joins the couple of an invite code as partner B. Every attempt counts against the
    /// caller's and the client's join limits, so the million codes cannot be walked.
    ///
    /// # Errors
    /// See [`JoinError`].
    pub async fn join(
        &self,
        caller: &Caller,
        code: &str,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<CoupleView, JoinError> {
        let ip = ip_key(client_ip);
        let now = accueil_ports::system::Clock::now(&*self.ports.clock);
        // The client's limit needs no account; the caller's is counted once they are known,
        // inside the unit of work (a refusal there rolls back nothing but itself).
        if let Some(ip) = &ip {
            self.ports
                .limiter
                .hit("join:ip", ip, self.settings.join_ip, now)
                .map_err(|retry_after| RateLimited { retry_after })?;
        }
        let code = code.trim().to_owned();
        let limiter = self.ports.limiter.clone();
        let per_user = self.settings.join_user;
        let (mail_id, job) = (self.ports.ids.new_id(), self.ports.ids.new_id());
        self.ports
            .write_as(caller, move |cx| -> Result<CoupleView, JoinError> {
                let me = cx.me.user.clone();
                limiter
                    .hit("join:user", &me.id.to_string(), per_user, cx.now)
                    .map_err(|retry_after| RateLimited { retry_after })?;
                if !Invite::is_code(&code) {
                    return Err(InviteProblem::Invalid.into());
                }
                let invite = cx
                    .tx
                    .pairing()
                    .invite_by_code(&code)?
                    .ok_or(InviteProblem::Invalid)?;
                let mut couple = cx
                    .tx
                    .pairing()
                    .couple_for_update(invite.couple_id)?
                    .ok_or(InviteProblem::Invalid)?;
                let in_couple = cx.tx.pairing().active_couple_of(me.id)?.is_some();
                can_join(&invite, &couple, me.id, in_couple, cx.now)?;
                if !cx.tx.pairing().use_invite(invite.id, cx.now)? {
                    return Err(InviteProblem::Used.into());
                }
                couple.partner_b = Some(me.id);
                couple.paired_at = Some(cx.now);
                couple.updated_at = cx.now;
                cx.tx.pairing().update_couple(&couple)?;
                for (kind, id) in [
                    (EntityKind::Invite, invite.id),
                    (EntityKind::Couple, couple.id.0),
                ] {
                    super::record_change(cx.tx, couple.id, kind, id, ChangeOp::Upsert, cx.now)?;
                }
                let (partner_a, _) = partners(cx.tx, &couple)?;
                // Letters the inviter sealed before the joiner came are sealed for them.
                super::letters::sync_opening(cx.tx, job, &couple, me.id, cx.now)?;
                // The inviter hears of it, if they want couple mails (the gate decides).
                crate::notify::enqueue(cx.tx, &partner_joined(mail_id, &partner_a, &me, cx.now))?;
                Ok(CoupleView {
                    couple,
                    partner_a,
                    partner_b: Some(me),
                })
            })
            .await
    }

    /// Leaves the couple: it is dissolved for both partners. Its content stays available to
    /// both, read-only, through [`CouplesService::export`] for 30 days, then is purged.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn leave(&self, caller: &Caller) -> Result<(), InCoupleError> {
        self.ports
            .write_as(caller, |cx| -> Result<(), InCoupleError> {
                dissolve_couple_of(cx.tx, cx.me.user.id, cx.now)?
                    .ok_or(CoupleDenied::NotInCouple(NotInCouple))?;
                Ok(())
            })
            .await
    }
}

/// The mail telling the inviter that `joiner` joined. It names the joiner by the name they
/// chose to show (display name, else username); the template says "your partner" otherwise,
/// rather than show part of their address.
fn partner_joined(
    id: uuid::Uuid,
    inviter: &User,
    joiner: &User,
    now: chrono::DateTime<chrono::Utc>,
) -> UserMail {
    let partner = joiner
        .display_name
        .as_ref()
        .map(|d| d.as_str().to_owned())
        .or_else(|| joiner.username.as_ref().map(|u| u.as_str().to_owned()))
        .unwrap_or_default();
    UserMail::new(
        id,
        inviter,
        None,
        MailTemplate::PartnerJoined,
        &[("partner", partner)],
        now,
    )
}

#[cfg(test)]
mod tests {
    use accueil_domain::identity::{DisplayName, ProfileChanges};
    use accueil_domain::validation::Patch;

    use super::*;
    use crate::testing::{Harness, ttl};

    /// A invites, B (shown as "Bob") joins; the partner-joined mails in the outbox.
    async fn join_with_a_email(email_on: bool) -> Vec<accueil_domain::notify::OutboxEntry> {
        let h = Harness::new();
        h.registered("a@example.org", None).await;
        h.registered("b@example.org", None).await;
        let (a, b) = (
            h.principal("a@example.org").await,
            h.principal("b@example.org").await,
        );
        h.app
            .update_profile(
                &a,
                ProfileChanges {
                    email_notifications: Some(email_on),
                    ..ProfileChanges::default()
                },
            )
            .await
            .unwrap();
        h.app
            .update_profile(
                &b,
                ProfileChanges {
                    display_name: Patch::Set(DisplayName::parse("Bob").unwrap()),
                    ..ProfileChanges::default()
                },
            )
            .await
            .unwrap();
        let c = h.couples();
        c.create(&a).await.unwrap();
        let invite = c.invite(&a, ttl(None)).await.unwrap();
        c.join(&b, &invite.code, None).await.unwrap();
        h.outbox()
            .await
            .into_iter()
            .filter(|e| e.mail.template == MailTemplate::PartnerJoined)
            .collect()
    }

    #[tokio::test]
    async fn the_inviter_hears_that_the_partner_joined() {
        let mails = join_with_a_email(true).await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].mail.to.as_str(), "a@example.org");
        assert_eq!(mails[0].mail.vars["partner"], "Bob");
    }

    #[tokio::test]
    async fn an_inviter_who_turned_mails_off_gets_none() {
        assert!(join_with_a_email(false).await.is_empty());
    }
}
