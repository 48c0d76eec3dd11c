//! Share links: a partner makes a link that shows the couple's site, or chosen memories of it,
//! read-only to anyone holding it, until it expires or a partner revokes it. Making and
//! revoking one is recorded in the couple's feed (`share` entries; never the token).

use accueil_domain::couples::{ChangeOp, EntityKind};
use accueil_domain::memories::{MemoryId, NewShare, Share, ShareId, ShareScope, ShareState};
use accueil_domain::validation::{FieldError, ValidationErrors};
use accueil_ports::StoreError;
use uuid::Uuid;

use super::MemoriesService;
use crate::identity::Caller;
use crate::scope::{CoupleDenied, InCoupleError, InCoupleLookupError, NotFound};

/// A share link the caller's couple does not have.
const NO_SHARE: NotFound = NotFound("share");

/// A share just made, with its token: the only time the token is seen.
#[derive(Debug, Clone)]
pub struct CreatedShare {
    /// The share.
    pub share: Share,
    /// The secret that goes in the public link.
    pub token: String,
}

/// Why making a share link failed. Listing and revoking them fail only as their scope can
/// ([`InCoupleError`]), or with a missing share ([`InCoupleLookupError`]).
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    /// Not authenticated, or in no couple.
    #[error(transparent)]
    Denied(#[from] CoupleDenied),
    /// Listed memories that are not the couple's.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The couple has as many active shares as allowed.
    #[error("at most {max} active share links")]
    TooMany {
        /// The limit.
        max: usize,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl MemoriesService {
    /// Makes a share link for the caller's couple.
    ///
    /// # Errors
    /// See [`ShareError`].
    pub async fn create_share(
        &self,
        caller: &Caller,
        new: NewShare,
    ) -> Result<CreatedShare, ShareError> {
        let token = self.ports.opaque_tokens.generate();
        let id = ShareId(self.ports.ids.new_id());
        let max = self.settings.max_active_shares;
        let digest = token.digest.0.clone();
        let share = self
            .ports
            .write_in_couple(caller, move |cx| -> Result<Share, ShareError> {
                // The couple is locked: concurrent creations count active shares one at a
                // time.
                if let ShareScope::Only(ids) = &new.scope {
                    let found = cx.tx.memories().existing_memories(cx.couple.id, ids)?;
                    if found.len() != ids.len() {
                        let unknown: Vec<String> = ids
                            .iter()
                            .filter(|id| !found.contains(id))
                            .map(|id: &MemoryId| id.0.to_string())
                            .collect();
                        return Err(ValidationErrors(vec![FieldError::new(
                            "memory_ids",
                            "not_found",
                            format!("not memories of this couple: {}", unknown.join(", ")),
                        )])
                        .into());
                    }
                }
                let active = cx
                    .tx
                    .shares()
                    .shares(cx.couple.id)?
                    .iter()
                    .filter(|s| s.state(cx.now) == ShareState::Active)
                    .count();
                if active >= max {
                    return Err(ShareError::TooMany { max });
                }
                let share = Share {
                    id,
                    couple_id: cx.couple.id,
                    token_digest: digest,
                    scope: new.scope,
                    expires_at: new.expires_at,
                    revoked_at: None,
                    created_by: cx.me.user.id,
                    created_at: cx.now,
                };
                cx.tx.shares().insert_share(&share)?;
                cx.changed(EntityKind::Share, share.id.0, ChangeOp::Upsert)?;
                Ok(share)
            })
            .await?;
        Ok(CreatedShare {
            share,
            token: token.secret,
        })
    }

    /// The caller's couple's share links, oldest first, in every state, with their state now.
    ///
    /// # Errors
    /// See [`InCoupleError`].
    pub async fn shares(&self, caller: &Caller) -> Result<Vec<(Share, ShareState)>, InCoupleError> {
        self.ports
            .read_in_couple(
                caller,
                |cx| -> Result<Vec<(Share, ShareState)>, InCoupleError> {
                    let now = cx.now;
                    Ok(cx
                        .tx
                        .shares()
                        .shares(cx.couple.id)?
                        .into_iter()
                        .map(|s| {
                            let state = s.state(now);
                            (s, state)
                        })
                        .collect())
                },
            )
            .await
    }

    /// Revokes a share link at once; revoking it again changes nothing.
    ///
    /// # Errors
    /// See [`InCoupleLookupError`].
    pub async fn revoke_share(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<Share, InCoupleLookupError> {
        self.ports
            .write_in_couple(caller, move |cx| -> Result<Share, InCoupleLookupError> {
                let share = cx
                    .tx
                    .shares()
                    .revoke_share(cx.couple.id, ShareId(id), cx.now)?
                    .ok_or(NO_SHARE)?;
                if share.revoked_at == Some(cx.now) {
                    cx.changed(EntityKind::Share, share.id.0, ChangeOp::Upsert)?;
                }
                Ok(share)
            })
            .await
    }
}
