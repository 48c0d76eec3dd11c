//! Share links: a partner makes a link that shows the couple's site, or chosen memories of it,
//! read-only to anyone holding it, until it expires or a partner revokes it.

use accueil_domain::memories::{MemoryId, Share, ShareId, ShareScope, ShareState, share_expiry};
use accueil_domain::validation::{FieldError, ValidationErrors};
use accueil_ports::{StoreError, StoreExt};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::MemoriesService;
use crate::couples::{NotInCouple, my_couple};
use crate::identity::Principal;

/// A new share link.
#[derive(Debug, Clone, Default)]
pub struct ShareInput {
    /// When it stops working; `None`: when revoked.
    pub expires_at: Option<DateTime<Utc>>,
    /// The memories it shows; `None`: all of them, including later ones.
    pub memory_ids: Option<Vec<Uuid>>,
}

/// A share just made, with its token: the only time the token is seen.
#[derive(Debug, Clone)]
pub struct CreatedShare {
    /// The share.
    pub share: Share,
    /// The secret that goes in the public link.
    pub token: String,
}

/// Why a share request failed.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    /// No couple.
    #[error(transparent)]
    NotInCouple(#[from] NotInCouple),
    /// No such share in the caller's couple.
    #[error("no such share")]
    NotFound,
    /// Invalid fields (including memories that are not the couple's).
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
        who: &Principal,
        input: ShareInput,
    ) -> Result<CreatedShare, ShareError> {
        let now = self.now();
        let mut errors = Vec::new();
        let expires_at = share_expiry(input.expires_at, now).map_err(|e| errors.push(e));
        let scope = ShareScope::parse(input.memory_ids).map_err(|e| errors.push(e));
        ValidationErrors::collect(errors)?;
        let (Ok(expires_at), Ok(scope)) = (expires_at, scope) else {
            return Err(ShareError::Invalid(ValidationErrors(Vec::new())));
        };
        let token = self.ports.opaque_tokens.generate();
        let id = ShareId(self.ports.ids.new_id());
        let me = who.user.id;
        let max = self.settings.max_active_shares;
        let digest = token.digest.0.clone();
        let share = self
            .ports
            .store
            .write(move |tx| -> Result<Share, ShareError> {
                let couple = my_couple(tx, me)??;
                // Locks the couple: concurrent creations count active shares one at a time.
                tx.pairing().couple(couple.id)?;
                if let ShareScope::Only(ids) = &scope {
                    let found = tx.memories().existing_memories(couple.id, ids)?;
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
                let active = tx
                    .shares()
                    .shares(couple.id)?
                    .iter()
                    .filter(|s| s.state(now) == ShareState::Active)
                    .count();
                if active >= max {
                    return Err(ShareError::TooMany { max });
                }
                let share = Share {
                    id,
                    couple_id: couple.id,
                    token_digest: digest,
                    scope,
                    expires_at,
                    revoked_at: None,
                    created_by: me,
                    created_at: now,
                };
                tx.shares().insert_share(&share)?;
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
    /// See [`ShareError`].
    pub async fn shares(&self, who: &Principal) -> Result<Vec<(Share, ShareState)>, ShareError> {
        let me = who.user.id;
        let now = self.now();
        self.ports
            .store
            .read(move |tx| -> Result<Vec<(Share, ShareState)>, ShareError> {
                let couple = my_couple(tx, me)??;
                Ok(tx
                    .shares()
                    .shares(couple.id)?
                    .into_iter()
                    .map(|s| {
                        let state = s.state(now);
                        (s, state)
                    })
                    .collect())
            })
            .await
    }

    /// Revokes a share link at once; revoking it again changes nothing.
    ///
    /// # Errors
    /// See [`ShareError`].
    pub async fn revoke_share(&self, who: &Principal, id: Uuid) -> Result<Share, ShareError> {
        let me = who.user.id;
        let now = self.now();
        self.ports
            .store
            .write(move |tx| -> Result<Share, ShareError> {
                let couple = my_couple(tx, me)??;
                tx.shares()
                    .revoke_share(couple.id, ShareId(id), now)?
                    .ok_or(ShareError::NotFound)
            })
            .await
    }
}
