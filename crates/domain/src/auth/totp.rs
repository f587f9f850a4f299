//! RFC 6238 time-based one-time codes as authenticator apps make them
//! (SHA-1, 6 digits, 30-second steps), the step window a code is accepted
//! in and the replay rule, and the recovery codes that stand in for a lost
//! authenticator.
//!
//! The code arithmetic is `totp-rs`'s; what is Roster's is which steps
//! count: the current one and its neighbours, and only one later than the
//! last step spent (kept in the store, so the rule holds in every process).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use rand::{Rng, RngCore};
use sha2::Sha256;
use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

use super::TokenHash;

/// Seconds per step.
pub const STEP_SECS: u64 = 30;
/// Digits of a code.
pub const DIGITS: usize = 6;
/// Bytes of a secret: 160 bits, the HMAC-SHA-1 block RFC 4226 recommends.
const SECRET_LEN: usize = 20;

/// The 30-second step holding `unix_secs`.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.max(0) / STEP_SECS as i64
}

/// A TOTP shared secret. Never logged; shown once, at enrolment.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// What a presented code is, against a secret and the last step spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// It is the code of `step` (the current step or a neighbour), later
    /// than every step spent: spend it.
    Valid { step: i64 },
    /// It is the code of a step already spent: refused (RFC 6238 §5.2).
    Reused,
    /// Not a code of any step in the window.
    Invalid,
}

impl TotpSecret {
    /// A fresh random secret.
    pub fn generate() -> TotpSecret {
        let mut bytes = Zeroizing::new(vec![0u8; SECRET_LEN]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        TotpSecret(bytes)
    }

    /// A secret from its bytes (as unsealed from the store).
    pub fn from_bytes(bytes: Vec<u8>) -> Option<TotpSecret> {
        (bytes.len() >= 16).then(|| TotpSecret(Zeroizing::new(bytes)))
    }

    /// A secret as authenticator apps take it typed in (base32); `None` if
    /// it is not base32 or too short.
    pub fn from_base32(encoded: &str) -> Option<TotpSecret> {
        let bytes = totp_rs::Secret::Encoded(encoded.trim().to_uppercase()).to_bytes().ok()?;
        TotpSecret::from_bytes(bytes)
    }

    /// The raw bytes, for sealing.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret as authenticator apps take it typed in: RFC 4648 base32,
    /// no padding.
    pub fn base32(&self) -> String {
        totp_rs::Secret::Raw(self.0.to_vec()).to_encoded().to_string()
    }

    fn totp(&self, digits: usize, issuer: Option<String>, account: String) -> Result<TOTP, String> {
        TOTP::new(Algorithm::SHA1, digits, 0, STEP_SECS, self.0.to_vec(), issuer, account).map_err(|e| e.to_string())
    }

    /// The `otpauth://totp/…` URI a QR code carries: `issuer` names the
    /// service in the app, `account` the user.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Result<String, String> {
        // The label's `issuer:account` separator may not appear in either part.
        let clean = |s: &str| s.replace(':', " ");
        Ok(self.totp(DIGITS, Some(clean(issuer)), clean(account))?.get_url())
    }

    /// The code of `step` with `digits` digits.
    fn code_at(&self, digits: usize, step: i64) -> Result<String, String> {
        Ok(self.totp(digits, None, String::new())?.generate(step.max(0) as u64 * STEP_SECS))
    }

    /// The 6-digit code of `step` (what an authenticator app shows then).
    pub fn code(&self, step: i64) -> Result<String, String> {
        self.code_at(DIGITS, step)
    }

    /// Checks `code` at `now_step`: a code of the current step or either
    /// neighbour (clock drift of up to 30 s either way) is accepted once,
    /// and only if its step is later than `last_step`, the last one spent.
    /// Compared in constant time.
    pub fn check(&self, code: &str, now_step: i64, last_step: i64) -> Result<CodeCheck, String> {
        let code = code.trim();
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(CodeCheck::Invalid);
        }
        let mut matched = None;
        for step in [now_step + 1, now_step, now_step - 1] {
            let expected = self.code(step)?;
            if constant_time_eq(expected.as_bytes(), code.as_bytes()) && matched.is_none() {
                matched = Some(step);
            }
        }
        Ok(match matched {
            Some(step) if step > last_step => CodeCheck::Valid { step },
            Some(_) => CodeCheck::Reused,
            None => CodeCheck::Invalid,
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// How many recovery codes a set holds.
pub const RECOVERY_CODES: usize = 10;
/// The alphabet of recovery codes: lower-case letters and digits without
/// the easily confused `0 o 1 l i` (31 symbols, ~4.95 bits each).
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Symbols per code, shown as two groups of five: ~49.5 bits, and the
/// store holds only keyed hashes, so a copy of the database guesses nothing.
const RECOVERY_LEN: usize = 10;

/// Keys the hashes of recovery codes and MFA challenges, so the store's
/// copies are useless without the key-encryption secret.
#[derive(Clone)]
pub struct MfaHasher(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MfaHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaHasher(<redacted>)")
    }
}

impl MfaHasher {
    pub fn new(key: [u8; 32]) -> MfaHasher {
        MfaHasher(Zeroizing::new(key))
    }

    fn mac(&self, purpose: &[u8], value: &[u8]) -> TokenHash {
        let mut mac = match Hmac::<Sha256>::new_from_slice(self.0.as_ref()) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any size"),
        };
        mac.update(purpose);
        mac.update(&[0]);
        mac.update(value);
        mac.finalize().into_bytes().into()
    }

    /// The stored form of a recovery code (normalised first: case, spaces
    /// and dashes do not matter). `None` if it cannot be one.
    pub fn recovery_code(&self, code: &str) -> Option<TokenHash> {
        let normal = normalise_recovery_code(code)?;
        Some(self.mac(b"recovery code", normal.as_bytes()))
    }

    /// The stored form of an MFA challenge.
    pub fn challenge(&self, challenge: &MfaChallengeToken) -> TokenHash {
        self.mac(b"mfa challenge", challenge.0.as_bytes())
    }
}

/// `abcde-fghjk` → `abcdefghjk`; `None` unless exactly ten symbols of the alphabet.
fn normalise_recovery_code(code: &str) -> Option<Zeroizing<String>> {
    let normal: Zeroizing<String> =
        Zeroizing::new(code.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_lowercase).collect());
    (normal.len() == RECOVERY_LEN && normal.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))).then_some(normal)
}

/// A fresh set of recovery codes, as shown to the user (`abcde-fghjk`).
pub fn generate_recovery_codes() -> Vec<Zeroizing<String>> {
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut s = Zeroizing::new(String::with_capacity(RECOVERY_LEN + 1));
            for i in 0..RECOVERY_LEN {
                if i == RECOVERY_LEN / 2 {
                    s.push('-');
                }
                s.push(RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())] as char);
            }
            s
        })
        .collect()
}

/// The second step of a login: handed out by `POST /auth/login` when the
/// account has MFA on, redeemed (once) by `POST /auth/mfa/verify`.
#[derive(Clone, PartialEq, Eq)]
pub struct MfaChallengeToken(Zeroizing<String>);

impl std::fmt::Debug for MfaChallengeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaChallengeToken(<redacted>)")
    }
}

/// Marks challenges apart from other opaque tokens.
const CHALLENGE_PREFIX: &str = "rmc_";

impl MfaChallengeToken {
    pub fn generate() -> MfaChallengeToken {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        MfaChallengeToken(Zeroizing::new(format!("{CHALLENGE_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes.as_ref()))))
    }

    /// `None` unless `raw` has the shape of a challenge this server makes.
    pub fn parse(raw: &str) -> Option<MfaChallengeToken> {
        let body = raw.trim().strip_prefix(CHALLENGE_PREFIX)?;
        let decoded = URL_SAFE_NO_PAD.decode(body).ok()?;
        (decoded.len() == 32).then(|| MfaChallengeToken(Zeroizing::new(raw.trim().to_string())))
    }

    /// The challenge itself, for the login answer. Never logged.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows: the 20-byte ASCII secret
    /// `12345678901234567890`, 8 digits, 30-second steps.
    #[test]
    fn rfc6238_test_vectors() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (t, code) in vectors {
            assert_eq!(secret.code_at(8, step_at(t)).unwrap(), code, "T = {t}");
        }
        // Six digits are the low six of the same truncation.
        assert_eq!(secret.code(step_at(59)).unwrap(), "287082");
    }

    #[test]
    fn the_window_is_the_current_step_and_its_neighbours() {
        let secret = TotpSecret::generate();
        let now = 1_000_000;
        for (offset, accepted) in [(-2, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = secret.code(now + offset).unwrap();
            let check = secret.check(&code, now, 0).unwrap();
            if accepted {
                assert_eq!(check, CodeCheck::Valid { step: now + offset }, "offset {offset}");
            } else {
                assert_eq!(check, CodeCheck::Invalid, "offset {offset}");
            }
        }
    }

    #[test]
    fn a_spent_step_and_every_earlier_one_are_refused() {
        let secret = TotpSecret::generate();
        let now = 2_000_000;
        let code = secret.code(now).unwrap();
        assert_eq!(secret.check(&code, now, now - 1).unwrap(), CodeCheck::Valid { step: now });
        assert_eq!(secret.check(&code, now, now).unwrap(), CodeCheck::Reused);
        // After the next step was spent, the previous step's code is late too.
        let previous = secret.code(now - 1).unwrap();
        assert_eq!(secret.check(&previous, now, now).unwrap(), CodeCheck::Reused);
        // A code for the step ahead is still fine.
        let next = secret.code(now + 1).unwrap();
        assert_eq!(secret.check(&next, now, now).unwrap(), CodeCheck::Valid { step: now + 1 });
    }

    #[test]
    fn malformed_codes_are_invalid_without_a_match() {
        let secret = TotpSecret::generate();
        for bad in ["", "12345", "1234567", "abcdef", "12 345", "１２３４５６"] {
            assert_eq!(secret.check(bad, 10, 0).unwrap(), CodeCheck::Invalid, "{bad:?}");
        }
        let code = secret.code(10).unwrap();
        assert_eq!(secret.check(&format!(" {code} "), 10, 0).unwrap(), CodeCheck::Valid { step: 10 });
    }

    #[test]
    fn base32_and_uri() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        assert_eq!(secret.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(TotpSecret::from_base32("gezdgnbvgy3tqojqgezdgnbvgy3tqojq"), Some(secret.clone()));
        assert_eq!(TotpSecret::from_base32("not base32!"), None);
        let uri = secret.otpauth_uri("Roster", "ada@example.com").unwrap();
        assert!(uri.starts_with("otpauth://totp/Roster:ada%40example.com?"), "{uri}");
        assert!(uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), "{uri}");
        assert!(uri.contains("issuer=Roster"), "{uri}");
        assert!(secret.otpauth_uri("Acme: Staff", "a:b@example.com").is_ok());
        assert!(!format!("{secret:?}").contains("GEZ"));
    }

    #[test]
    fn recovery_codes_normalise_and_hash_under_the_key() {
        let codes = generate_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let hasher = MfaHasher::new([7; 32]);
        let other = MfaHasher::new([8; 32]);
        for code in &codes {
            assert_eq!(code.len(), 11);
            assert_eq!(&code[5..6], "-");
            let h = hasher.recovery_code(code).unwrap();
            assert_eq!(hasher.recovery_code(&code.to_uppercase().replace('-', " ")), Some(h));
            assert_ne!(other.recovery_code(code), Some(h));
        }
        let distinct: std::collections::HashSet<_> = codes.iter().map(|c| c.to_string()).collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        for bad in ["", "abcde-fghj", "abcde-fghjkm", "abcde-fghj0", "123456"] {
            assert_eq!(hasher.recovery_code(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn challenges_round_trip() {
        let c = MfaChallengeToken::generate();
        assert!(c.expose().starts_with("rmc_"));
        assert_eq!(MfaChallengeToken::parse(c.expose()), Some(c.clone()));
        assert_eq!(MfaChallengeToken::parse("rmc_short"), None);
        assert_eq!(MfaChallengeToken::parse(&c.expose()[4..]), None);
        let hasher = MfaHasher::new([1; 32]);
        assert_eq!(hasher.challenge(&c), hasher.challenge(&MfaChallengeToken::parse(c.expose()).unwrap()));
        assert_ne!(hasher.challenge(&c), hasher.challenge(&MfaChallengeToken::generate()));
    }
}
