//! bcrypt password hashing on a bounded blocking pool.
//!
//! One bcrypt hash occupies a core for its whole duration (about 0.3 s at cost 12 in a release
//! build). Running hashes on tokio's blocking pool keeps the async workers free; a semaphore
//! bounds how many run at once (`ACCUEIL_HASH_CONCURRENCY`, by default one per core but one, so
//! a login flood leaves a core to everything else), so that a burst of logins does not queue
//! hundreds of threads that would all finish late: excess requests wait for a permit instead,
//! in arrival order.

use std::sync::Arc;

use accueil_domain::identity::{MAX_PASSWORD_BYTES, Password, PasswordHash};
use accueil_ports::system::{HashError, PasswordHasher};
use async_trait::async_trait;
use tokio::sync::Semaphore;

/// The bcrypt hasher.
#[derive(Debug, Clone)]
pub struct BcryptHasher {
    cost: u32,
    permits: Arc<Semaphore>,
    /// A hash of a random secret at the configured cost, verified against when there is no
    /// real hash so that unknown accounts cost the same time as known ones.
    dummy: Arc<str>,
}

impl BcryptHasher {
    /// A hasher at `cost` (4..=31) running at most `concurrency` hashes at once. Computes the
    /// dummy hash, so it takes one hash's time: call it at start-up.
    ///
    /// # Errors
    /// `HashError::Internal` when the cost is out of range.
    pub fn new(cost: u32, concurrency: usize) -> Result<Self, HashError> {
        let mut seed = [0u8; 24];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
        let dummy = bcrypt::hash(seed, cost).map_err(|e| HashError::Internal(e.to_string()))?;
        Ok(Self {
            cost,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy: dummy.into(),
        })
    }

    /// The configured cost.
    pub fn cost(&self) -> u32 {
        self.cost
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        // The permit moves into the blocking task: if the caller goes away (a client hangs
        // up), the hash still holds its core's permit until it finishes, so dropped requests
        // cannot start more hashes than there are cores.
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| HashError::Internal("hasher closed".into()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f()
        })
        .await
        .map_err(|e| HashError::Internal(e.to_string()))
    }
}

#[async_trait]
impl PasswordHasher for BcryptHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let secret = password.expose().to_owned();
        let cost = self.cost;
        // bcrypt reads at most 72 bytes: refuse more rather than let it drop the rest (the
        // policy rejects those before they get here). Exactly 72 is whole, so the library's
        // non-truncating variant, which also counts the terminating NUL, is too strict.
        if secret.len() > MAX_PASSWORD_BYTES {
            return Err(HashError::Internal(
                "password longer than bcrypt's 72 bytes".into(),
            ));
        }
        let hashed = self
            .blocking(move || bcrypt::hash(secret, cost))
            .await?
            .map_err(|e| HashError::Internal(e.to_string()))?;
        Ok(PasswordHash::new(hashed))
    }

    fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        // `$2b$12$...`: the cost is the two digits after the second `$`.
        hash.as_str()
            .get(4..6)
            .and_then(|c| c.parse::<u32>().ok())
            .is_none_or(|cost| cost != self.cost)
    }

    async fn verify<'a>(
        &self,
        password: &Password,
        hash: Option<&'a PasswordHash>,
    ) -> Result<bool, HashError> {
        let secret = password.expose().to_owned();
        let too_long = secret.len() > MAX_PASSWORD_BYTES;
        let (target, real) = match hash {
            Some(h) if !too_long => (h.as_str().to_owned(), true),
            // No account, no password, or a password no stored hash can match: spend the same
            // time on the dummy and answer no.
            _ => (self.dummy.to_string(), false),
        };
        let verified = self
            .blocking(move || {
                let secret = if too_long {
                    &secret[..0]
                } else {
                    secret.as_str()
                };
                bcrypt::verify(secret, &target)
            })
            .await?;
        match verified {
            Ok(ok) => Ok(ok && real),
            Err(bcrypt::BcryptError::InvalidHash(_)) => Err(HashError::Malformed),
            Err(e) => Err(HashError::Internal(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn hashes_and_verifies() {
        let h = BcryptHasher::new(4, 2).unwrap();
        let pw = Password::unchecked("correct horse battery");
        let hash = h.hash(&pw).await.unwrap();
        assert!(hash.as_str().starts_with("$2b$04$"));
        assert!(h.verify(&pw, Some(&hash)).await.unwrap());
        let wrong = Password::unchecked("correct horse battery!");
        assert!(!h.verify(&wrong, Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_of_another_cost_need_a_rehash() {
        let four = BcryptHasher::new(4, 1).unwrap();
        let five = BcryptHasher::new(5, 1).unwrap();
        let hash = four
            .hash(&Password::unchecked("a passphrase"))
            .await
            .unwrap();
        assert!(!four.needs_rehash(&hash));
        assert!(five.needs_rehash(&hash));
        assert!(four.needs_rehash(&PasswordHash::new("garbage".into())));
    }

    #[tokio::test]
    async fn no_hash_means_no_but_costs_a_verification() {
        let h = BcryptHasher::new(4, 1).unwrap();
        assert!(
            !h.verify(&Password::unchecked("anything"), None)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn overlong_passwords_never_match_a_truncated_prefix() {
        let h = BcryptHasher::new(4, 1).unwrap();
        let base = "a".repeat(72);
        let hash = h.hash(&Password::unchecked(&base)).await.unwrap();
        let longer = Password::unchecked(&format!("{base}extra"));
        assert!(!h.verify(&longer, Some(&hash)).await.unwrap());
        assert!(
            h.hash(&longer).await.is_err(),
            "hashing refuses to truncate"
        );
    }

    #[tokio::test]
    async fn malformed_hash_is_reported() {
        let h = BcryptHasher::new(4, 1).unwrap();
        let res = h
            .verify(
                &Password::unchecked("x"),
                Some(&PasswordHash::new("nope".into())),
            )
            .await;
        assert_eq!(res, Err(HashError::Malformed));
    }
}
