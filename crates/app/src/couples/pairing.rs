//! Pairing: create, invite, join, leave, view and export a couple.

use accueil_domain::couples::{
    ChangeOp, Couple, CoupleId, EntityKind, Invite, InviteProblem, InviteTtl, JoinProblem,
    SHARED_CONTENT_RETENTION, can_join,
};
use accueil_domain::identity::User;
use accueil_domain::validation::ValidationErrors;
use accueil_ports::{StoreError, StoreExt};

use accueil_domain::couples::{CheckIn, Letter};

use super::content::GoalView;
use super::qna::{QuestionView, view_of};
use super::{CouplesService, NotInCouple, changed, dissolve_couple_of, my_couple, partners};
use crate::identity::{Principal, RateLimited, ip_key};

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

/// Why creating, viewing or leaving failed.
#[derive(Debug, thiserror::Error)]
pub enum PairingError {
    /// The caller has no couple (view, leave).
    #[error(transparent)]
    NotInCouple(#[from] NotInCouple),
    /// The caller has a couple already (create).
    #[error("already in a couple")]
    AlreadyInCouple,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an invite could not be made.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    /// No couple.
    #[error(transparent)]
    NotInCouple(#[from] NotInCouple),
    /// The couple has both partners.
    #[error("couple full")]
    CoupleFull,
    /// The lifetime is out of range.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A join attempt.
#[derive(Debug, Clone)]
pub struct JoinInput {
    /// The 6-digit code.
    pub code: String,
    /// The client's address, for rate limits.
    pub client_ip: Option<std::net::IpAddr>,
}

/// Why joining failed.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
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

/// Everything of a couple a partner may take with them.
#[derive(Debug, Clone)]
pub struct CoupleExport {
    /// The couple and partners.
    pub couple: CoupleView,
    /// Every question, as the caller may see it (mutual reveal applies).
    pub questions: Vec<QuestionView>,
    /// Every goal with its actions.
    pub goals: Vec<GoalView>,
    /// Both partners' check-ins.
    pub checkins: Vec<CheckIn>,
    /// Every letter.
    pub letters: Vec<Letter>,
}

impl CouplesService {
    /// Creates a couple with the caller as partner A.
    ///
    /// # Errors
    /// See [`PairingError`].
    pub async fn create(&self, who: &Principal) -> Result<CoupleView, PairingError> {
        let now = self.now();
        let me = who.user.clone();
        let couple = Couple::create(CoupleId(self.ports.ids.new_id()), me.id, now);
        self.ports
            .store
            .write(move |tx| -> Result<CoupleView, PairingError> {
                if tx.pairing().active_couple_of(me.id)?.is_some() {
                    return Err(PairingError::AlreadyInCouple);
                }
                tx.pairing().insert_couple(&couple)?;
                changed(
                    tx,
                    couple.id,
                    EntityKind::Couple,
                    couple.id.0,
                    ChangeOp::Upsert,
                    now,
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
    /// See [`PairingError`].
    pub async fn get(&self, who: &Principal) -> Result<CoupleView, PairingError> {
        let me = who.user.id;
        self.ports
            .store
            .read(move |tx| -> Result<CoupleView, PairingError> {
                let couple = my_couple(tx, me)??;
                let (partner_a, partner_b) = partners(tx, &couple)?;
                Ok(CoupleView {
                    couple,
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
    pub async fn invite(
        &self,
        who: &Principal,
        ttl_minutes: Option<i64>,
    ) -> Result<Invite, InviteError> {
        let ttl = InviteTtl::minutes(ttl_minutes).map_err(|e| ValidationErrors(vec![e]))?;
        let now = self.now();
        let me = who.user.id;
        let id = self.ports.ids.new_id();
        let tokens = self.ports.opaque_tokens.clone();
        self.ports
            .store
            .write(move |tx| -> Result<Invite, InviteError> {
                let couple = my_couple(tx, me)??;
                if couple.is_full() {
                    return Err(InviteError::CoupleFull);
                }
                for revoked in tx.pairing().revoke_invites(couple.id, now)? {
                    changed(
                        tx,
                        couple.id,
                        EntityKind::Invite,
                        revoked,
                        ChangeOp::Upsert,
                        now,
                    )?;
                }
                // Codes are unique among live invites; a collision is rare (a million codes),
                // so a few draws always find a free one.
                let mut code = tokens.numeric_code(6);
                for _ in 0..20 {
                    if !tx.pairing().live_code_exists(&code, now)? {
                        break;
                    }
                    code = tokens.numeric_code(6);
                }
                let invite = Invite {
                    id,
                    couple_id: couple.id,
                    code,
                    created_by: me,
                    created_at: now,
                    expires_at: now + ttl.duration(),
                    used_at: None,
                    revoked_at: None,
                };
                tx.pairing().insert_invite(&invite)?;
                changed(
                    tx,
                    couple.id,
                    EntityKind::Invite,
                    invite.id,
                    ChangeOp::Upsert,
                    now,
                )?;
                Ok(invite)
            })
            .await
    }

    /// Joins the couple of an invite code as partner B.
    ///
    /// # Errors
    /// See [`JoinError`].
    pub async fn join(&self, who: &Principal, input: JoinInput) -> Result<CoupleView, JoinError> {
        let ip = ip_key(input.client_ip);
        let user_key = who.user.id.to_string();
        let now = self.now();
        for (bucket, key, rate) in [
            (
                "join:user",
                Some(user_key.as_str()),
                self.settings.join_user,
            ),
            ("join:ip", ip.as_deref(), self.settings.join_ip),
        ] {
            if let Some(key) = key {
                self.ports
                    .limiter
                    .hit(bucket, key, rate, now)
                    .map_err(|retry_after| RateLimited { retry_after })?;
            }
        }
        let code = input.code.trim().to_owned();
        if !Invite::is_code(&code) {
            return Err(InviteProblem::Invalid.into());
        }
        let me = who.user.clone();
        self.ports
            .store
            .write(move |tx| -> Result<CoupleView, JoinError> {
                let invite = tx
                    .pairing()
                    .invite_by_code(&code)?
                    .ok_or(InviteProblem::Invalid)?;
                let mut couple = tx
                    .pairing()
                    .couple(invite.couple_id)?
                    .ok_or(InviteProblem::Invalid)?;
                let in_couple = tx.pairing().active_couple_of(me.id)?.is_some();
                can_join(&invite, &couple, me.id, in_couple, now)?;
                if !tx.pairing().use_invite(invite.id, now)? {
                    return Err(InviteProblem::Used.into());
                }
                couple.partner_b = Some(me.id);
                couple.paired_at = Some(now);
                couple.updated_at = now;
                tx.pairing().update_couple(&couple)?;
                changed(
                    tx,
                    couple.id,
                    EntityKind::Invite,
                    invite.id,
                    ChangeOp::Upsert,
                    now,
                )?;
                changed(
                    tx,
                    couple.id,
                    EntityKind::Couple,
                    couple.id.0,
                    ChangeOp::Upsert,
                    now,
                )?;
                let (partner_a, _) = partners(tx, &couple)?;
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
    /// See [`PairingError`].
    pub async fn leave(&self, who: &Principal) -> Result<(), PairingError> {
        let now = self.now();
        let me = who.user.id;
        self.ports
            .store
            .write(move |tx| -> Result<(), PairingError> {
                dissolve_couple_of(tx, me, now)?.ok_or(NotInCouple)?;
                Ok(())
            })
            .await
    }

    /// The caller's couple and its content: the active couple, or the last one dissolved less
    /// than 30 days ago.
    ///
    /// # Errors
    /// See [`PairingError`].
    pub async fn export(&self, who: &Principal) -> Result<CoupleExport, PairingError> {
        let now = self.now();
        let me = who.user.id;
        self.ports
            .store
            .read(move |tx| -> Result<CoupleExport, PairingError> {
                let couple = tx
                    .pairing()
                    .latest_couple_of(me)?
                    .filter(|c| {
                        c.dissolved_at
                            .is_none_or(|d| now < d + SHARED_CONTENT_RETENTION)
                    })
                    .ok_or(NotInCouple)?;
                let (partner_a, partner_b) = partners(tx, &couple)?;
                let mut questions = Vec::new();
                let mut before = None;
                loop {
                    let page = tx.qna().questions(couple.id, before, 200)?;
                    let last = page.last().map(|q| q.id);
                    for q in page {
                        let answers = tx.qna().answers(couple.id, q.id)?;
                        questions.push(view_of(q, answers, me));
                    }
                    match last {
                        Some(id) => before = Some(id),
                        None => break,
                    }
                }
                let mut goals = Vec::new();
                let mut before = None;
                loop {
                    let page = tx.goals().goals(couple.id, before, 200)?;
                    let Some(last) = page.last().map(|g| g.id) else {
                        break;
                    };
                    for goal in page {
                        let actions = tx.goals().actions(couple.id, goal.id)?;
                        goals.push(GoalView { goal, actions });
                    }
                    before = Some(last);
                }
                let mut checkins = Vec::new();
                let mut after = None;
                loop {
                    let page = tx.checkins().checkins(couple.id, None, None, after, 500)?;
                    let Some(last) = page.last().map(|c| (c.day, c.id)) else {
                        break;
                    };
                    checkins.extend(page);
                    after = Some(last);
                }
                let mut letters = Vec::new();
                let mut month = None;
                loop {
                    let page = tx.letters().letters(couple.id, month, 200)?;
                    let Some(last) = page.last().map(|l| l.month) else {
                        break;
                    };
                    letters.extend(page);
                    month = Some(last);
                }
                Ok(CoupleExport {
                    couple: CoupleView {
                        couple,
                        partner_a,
                        partner_b,
                    },
                    questions,
                    goals,
                    checkins,
                    letters,
                })
            })
            .await
    }

    /// Removes couples dissolved more than 30 days ago, with their content. Returns their ids
    /// (their files are the memories module's to delete).
    ///
    /// # Errors
    /// A [`StoreError`].
    pub async fn purge_dissolved(&self) -> Result<Vec<CoupleId>, StoreError> {
        let cutoff = self.now() - SHARED_CONTENT_RETENTION;
        self.ports
            .store
            .write(move |tx| tx.pairing().purge_dissolved_before(cutoff))
            .await
    }
}
