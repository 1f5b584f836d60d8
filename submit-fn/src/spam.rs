//! Spam defence and the secrets behind it: the signed form timestamp, the honeypot, the
//! salted IP hash, and the ids and management tokens derived from a submission's nonce.
//!
//! Invariant: no IP address, e-mail address or phone number leaves this module except as a
//! keyed hash, so logs and stores never see them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use ulid::Ulid;

/// A form sent back sooner than this after it was rendered was filled by a machine.
pub const MIN_FILL_SECONDS: i64 = 3;
/// A form older than this is refused, so a leaked token cannot be replayed for long.
pub const MAX_FORM_AGE_SECONDS: i64 = 24 * 60 * 60;

type HmacSha256 = Hmac<Sha256>;

/// The function's secrets. Locally they are generated once and kept under `data/`; in
/// Lambda they come from the environment.
#[derive(Clone)]
pub struct Secrets {
    /// Signs form timestamps and derives ids and management tokens from nonces.
    pub form_key: Vec<u8>,
    /// Salts the IP hash.
    pub ip_salt: Vec<u8>,
    /// Encrypts and signs moderator session cookies; 64 bytes, as `cookie::Key` needs.
    pub cookie_key: Vec<u8>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

/// Why a form token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Absent or not signed by us: typically the static page, which carries no token.
    Invalid,
    TooFast,
    Expired,
}

impl Secrets {
    /// Fresh random secrets: 256 bits each, and 512 bits for the cookie key.
    pub fn generate() -> Secrets {
        Secrets {
            form_key: random_bytes(32),
            ip_salt: random_bytes(32),
            cookie_key: random_cookie_key(),
        }
    }

    /// A form token for a form rendered at `now`: `<unix seconds>.<signature>`.
    pub fn issue_form_token(&self, now: DateTime<Utc>) -> String {
        let seconds = now.timestamp();
        format!("{seconds}.{}", self.sign("form", &seconds.to_string()))
    }

    /// Checks a form token sent back at `now`; returns the second the form was rendered.
    pub fn check_form_token(&self, token: &str, now: DateTime<Utc>) -> Result<i64, TokenProblem> {
        let (seconds, signature) = token.split_once('.').ok_or(TokenProblem::Invalid)?;
        let rendered: i64 = seconds.parse().map_err(|_| TokenProblem::Invalid)?;
        let mut mac = self.mac("form");
        mac.update(seconds.as_bytes());
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenProblem::Invalid)?;
        mac.verify_slice(&signature).map_err(|_| TokenProblem::Invalid)?;

        let age = now.timestamp() - rendered;
        if age < MIN_FILL_SECONDS {
            return Err(TokenProblem::TooFast);
        }
        if age > MAX_FORM_AGE_SECONDS {
            return Err(TokenProblem::Expired);
        }
        Ok(rendered)
    }

    /// The post id for a nonce: a ULID whose time is when the form was rendered and whose
    /// random part is keyed from the nonce, so a retried submission gets the same id.
    pub fn post_id(&self, nonce: &str, rendered_at_seconds: i64) -> String {
        let digest = self.keyed("id", nonce);
        let mut random = [0u8; 16];
        random[6..].copy_from_slice(&digest[..10]);
        let millis = u64::try_from(rendered_at_seconds).unwrap_or(0).saturating_mul(1000);
        Ulid::from_parts(millis, u128::from_be_bytes(random)).to_string()
    }

    /// The private management token for a nonce: 256 bits keyed from the nonce, so the
    /// same confirmation can be shown again after a retry although only its hash is stored.
    pub fn management_token(&self, nonce: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.keyed("manage", nonce))
    }

    /// The salted hash of a client address, the only form in which it is kept.
    pub fn ip_hash(&self, ip: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.ip_salt).expect("hmac takes any key");
        mac.update(ip.as_bytes());
        hex(&mac.finalize().into_bytes()[..16])
    }

    fn sign(&self, label: &str, value: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.keyed(label, value))
    }

    fn keyed(&self, label: &str, value: &str) -> Vec<u8> {
        let mut mac = self.mac(label);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// A MAC over `label:` first, so a value signed for one purpose is useless for another.
    fn mac(&self, label: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.form_key).expect("hmac takes any key");
        mac.update(label.as_bytes());
        mac.update(b":");
        mac
    }
}

/// A new one-time nonce for a rendered form: 128 random bits.
pub fn new_nonce() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(16))
}

/// True when a submitted nonce looks like one: 16 to 64 URL-safe characters. A client's own
/// UUID passes; anything else is treated as absent.
pub fn is_valid_nonce(nonce: &str) -> bool {
    (16..=64).contains(&nonce.len())
        && nonce.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// SHA-256 of a management token, hex-encoded: what the store keeps.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// True if and only if `token` is the management token whose hash is `stored_hash`. The
/// hashes are compared in constant time, so the answer's timing says nothing about how much
/// of a guess was right.
pub fn token_matches(token: &str, stored_hash: &str) -> bool {
    use subtle::ConstantTimeEq;
    token_hash(token).as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// A fresh cookie key of 64 random bytes, for a secrets file written before it existed.
pub fn random_cookie_key() -> Vec<u8> {
    random_bytes(64)
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    // Guards the timing window: too fast, in time, too old and forged tokens.
    #[test]
    fn form_token_is_refused_outside_its_window_and_when_forged() {
        let secrets = Secrets::generate();
        let rendered = Utc::now();
        let token = secrets.issue_form_token(rendered);
        let at = |s: i64| rendered + Duration::seconds(s);
        assert_eq!(secrets.check_form_token(&token, at(1)), Err(TokenProblem::TooFast));
        assert_eq!(secrets.check_form_token(&token, at(10)), Ok(rendered.timestamp()));
        assert_eq!(secrets.check_form_token(&token, at(90_000)), Err(TokenProblem::Expired));
        let forged = format!("{}.AAAA", rendered.timestamp() - 60);
        assert_eq!(secrets.check_form_token(&forged, at(10)), Err(TokenProblem::Invalid));
        let other = Secrets::generate().issue_form_token(rendered);
        assert_eq!(secrets.check_form_token(&other, at(10)), Err(TokenProblem::Invalid));
    }

    // Guards the management token check: only the token whose hash is stored passes, not
    // the stored hash itself, another nonce's token, or nothing.
    #[test]
    fn token_matches_only_the_token_behind_the_stored_hash() {
        let secrets = Secrets::generate();
        let token = secrets.management_token(&new_nonce());
        let stored = token_hash(&token);
        assert!(token_matches(&token, &stored));
        assert!(!token_matches(&stored, &stored));
        assert!(!token_matches(&secrets.management_token(&new_nonce()), &stored));
        assert!(!token_matches("", &stored));
    }

    // Guards idempotency: the same nonce always gives the same id and token, others differ.
    #[test]
    fn id_and_token_are_stable_per_nonce() {
        let secrets = Secrets::generate();
        let nonce = new_nonce();
        assert_eq!(secrets.post_id(&nonce, 1_700_000_000), secrets.post_id(&nonce, 1_700_000_000));
        assert_ne!(
            secrets.post_id(&nonce, 1_700_000_000),
            secrets.post_id(&new_nonce(), 1_700_000_000)
        );
        let token = secrets.management_token(&nonce);
        assert!(URL_SAFE_NO_PAD.decode(&token).unwrap().len() * 8 >= 128);
        assert_eq!(token_hash(&token).len(), 64);
        assert!(is_valid_nonce(&nonce));
        assert!(is_valid_nonce("7d0f3c2e-9b1a-4c55-8e21-3f6a0b9c1d44"));
        assert!(!is_valid_nonce("short"));
        assert!(!is_valid_nonce("has space in it here"));
    }
}
