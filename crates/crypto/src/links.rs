//! Signed links: HMAC-SHA256 under a key derived from the server secret for each purpose.
//!
//! The server secret (the JWT secret) is never used as an HMAC key directly: each purpose's
//! key is `HMAC-SHA256(secret, "accueil link key\0" + purpose)`, so a photo link's tag is
//! no use as anything else, and a new secret invalidates every link at once.

use accueil_ports::system::LinkSigner;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Signs links with keys derived from the server secret.
#[derive(Clone)]
pub struct HmacLinkSigner {
    secret: Vec<u8>,
}

impl std::fmt::Debug for HmacLinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacLinkSigner(<redacted>)")
    }
}

impl HmacLinkSigner {
    /// A signer over the server secret (checked for strength where the JWT signer is).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            secret: secret.to_vec(),
        }
    }

    fn keyed(&self, purpose: &str) -> HmacSha256 {
        let mut derive = HmacSha256::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        derive.update(b"accueil link key\0");
        derive.update(purpose.as_bytes());
        let key = derive.finalize().into_bytes();
        HmacSha256::new_from_slice(&key)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"))
    }
}

impl LinkSigner for HmacLinkSigner {
    fn sign(&self, purpose: &str, message: &[u8]) -> String {
        let mut mac = self.keyed(purpose);
        mac.update(message);
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    fn verify(&self, purpose: &str, message: &[u8], tag: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return false;
        };
        let mut mac = self.keyed(purpose);
        mac.update(message);
        // `verify_slice` compares in constant time.
        mac.verify_slice(&tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tags_depend_on_the_secret_the_purpose_and_every_byte() {
        let s = HmacLinkSigner::new(b"a server secret of some length!!");
        let tag = s.sign("photo", b"message");
        assert_eq!(tag.len(), 43, "32 bytes in base64url");
        assert_eq!(tag, s.sign("photo", b"message"), "deterministic");
        assert!(s.verify("photo", b"message", &tag));
        assert!(!s.verify("photo", b"messagf", &tag));
        assert!(!s.verify("other", b"message", &tag), "domain separation");
        assert!(!s.verify("photo", b"message", &tag[..42]));
        assert!(!s.verify("photo", b"message", "not base64!"));
        let mut flipped = URL_SAFE_NO_PAD.decode(&tag).unwrap();
        flipped[0] ^= 1;
        assert!(!s.verify("photo", b"message", &URL_SAFE_NO_PAD.encode(flipped)));
        let other = HmacLinkSigner::new(b"another server secret, as long!!");
        assert!(
            !other.verify("photo", b"message", &tag),
            "a new secret revokes all"
        );
        assert!(!format!("{s:?}").contains("secret of"));
    }
}
