//! The key-encryption secret and what is derived from it: the AES-256-GCM
//! key that seals signing keys at rest and the HMAC key of refresh-token
//! successors (HKDF-SHA-256 with distinct labels).

use std::{io::Write, path::Path};

use base64::{engine::general_purpose::STANDARD, Engine};
use ring::{
    aead, hkdf,
    rand::{SecureRandom, SystemRandom},
};
use zeroize::Zeroizing;

/// Parses 32 bytes given as 64 hex characters or standard base64.
pub fn decode_secret(s: &str) -> Option<Zeroizing<[u8; 32]>> {
    let s = s.trim();
    let bytes = if s.len() == 64 { hex::decode(s).ok()? } else { STANDARD.decode(s).ok()? };
    let arr: [u8; 32] = bytes.try_into().ok()?;
    Some(Zeroizing::new(arr))
}

/// Reads `<data_dir>/secret.key`, creating it (mode 0600) with 32 random
/// bytes on first start.
pub fn load_or_create_secret_file(data_dir: &Path) -> anyhow::Result<Zeroizing<[u8; 32]>> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let path = data_dir.join("secret.key");
    if path.exists() {
        let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            anyhow::bail!("{} is readable by others (mode {mode:o}); run chmod 600 on it", path.display());
        }
        let text = Zeroizing::new(std::fs::read_to_string(&path)?);
        return decode_secret(&text)
            .ok_or_else(|| anyhow::anyhow!("{} does not hold 64 hex characters", path.display()));
    }
    std::fs::create_dir_all(data_dir)?;
    let mut bytes = Zeroizing::new([0u8; 32]);
    SystemRandom::new().fill(bytes.as_mut()).map_err(|_| anyhow::anyhow!("no system randomness"))?;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
    f.write_all(hex::encode(bytes.as_ref()).as_bytes())?;
    f.sync_all()?;
    Ok(bytes)
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> anyhow::Result<Zeroizing<[u8; 32]>> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"roster key derivation v1").extract(master);
    let info = [label];
    let okm = prk.expand(&info, Len(32)).map_err(|_| anyhow::anyhow!("hkdf expand"))?;
    let mut out = Zeroizing::new([0u8; 32]);
    okm.fill(out.as_mut()).map_err(|_| anyhow::anyhow!("hkdf fill"))?;
    Ok(out)
}

/// Keys derived from the key-encryption secret.
pub struct DerivedKeys {
    sealing: aead::LessSafeKey,
    pub refresh: roster_domain::auth::RefreshSecret,
    /// Seals queued mail (it carries live tokens) in the outbox.
    pub outbox: PurposeSealer,
    /// Seals TOTP secrets at rest.
    pub mfa: PurposeSealer,
}

/// AES-256-GCM under a key derived for one purpose, bound to it by the
/// associated data: queued messages, TOTP secrets.
pub struct PurposeSealer {
    key: aead::LessSafeKey,
    aad: &'static [u8],
}

/// Binds sealed messages to their purpose.
const OUTBOX_AAD: &[u8] = b"roster outbox v1";
/// Binds sealed TOTP secrets to theirs.
const MFA_AAD: &[u8] = b"roster totp secret v1";

impl roster_domain::ports::Sealer for PurposeSealer {
    fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>, String> {
        seal_with(&self.key, plaintext, self.aad).map_err(|e| e.to_string())
    }

    fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, String> {
        open_with(&self.key, sealed, self.aad)
            .map(|p| p.to_vec())
            .map_err(|_| "the key-encryption secret differs from the one that sealed this value".to_string())
    }
}

fn aes_key(bytes: &[u8; 32]) -> anyhow::Result<aead::LessSafeKey> {
    let unbound = aead::UnboundKey::new(&aead::AES_256_GCM, bytes).map_err(|_| anyhow::anyhow!("aes key"))?;
    Ok(aead::LessSafeKey::new(unbound))
}

/// nonce ‖ ciphertext ‖ tag, bound to `aad`.
fn seal_with(key: &aead::LessSafeKey, plaintext: &[u8], aad: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut nonce = [0u8; aead::NONCE_LEN];
    SystemRandom::new().fill(&mut nonce).map_err(|_| anyhow::anyhow!("no system randomness"))?;
    let mut buf = plaintext.to_vec();
    key.seal_in_place_append_tag(aead::Nonce::assume_unique_for_key(nonce), aead::Aad::from(aad), &mut buf)
        .map_err(|_| anyhow::anyhow!("seal failed"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&buf);
    Ok(out)
}

/// Opens what [`seal_with`] made with the same key and `aad`.
fn open_with(key: &aead::LessSafeKey, sealed: &[u8], aad: &[u8]) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    if sealed.len() < aead::NONCE_LEN + aead::AES_256_GCM.tag_len() {
        anyhow::bail!("sealed value too short");
    }
    let (nonce, rest) = sealed.split_at(aead::NONCE_LEN);
    let nonce = aead::Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("bad nonce"))?;
    let mut buf = Zeroizing::new(rest.to_vec());
    let plain =
        key.open_in_place(nonce, aead::Aad::from(aad), buf.as_mut()).map_err(|_| anyhow::anyhow!("open failed"))?;
    Ok(Zeroizing::new(plain.to_vec()))
}

impl DerivedKeys {
    pub fn new(master: &[u8; 32]) -> anyhow::Result<DerivedKeys> {
        let seal = derive(master, b"signing-key sealing")?;
        let refresh = derive(master, b"refresh-token successor")?;
        let outbox = derive(master, b"outbox sealing")?;
        let mfa = derive(master, b"totp secret sealing")?;
        Ok(DerivedKeys {
            sealing: aes_key(&seal)?,
            refresh: roster_domain::auth::RefreshSecret::new(*refresh),
            outbox: PurposeSealer { key: aes_key(&outbox)?, aad: OUTBOX_AAD },
            mfa: PurposeSealer { key: aes_key(&mfa)?, aad: MFA_AAD },
        })
    }

    /// nonce ‖ ciphertext ‖ tag, bound to `aad` (the key id).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> anyhow::Result<Vec<u8>> {
        seal_with(&self.sealing, plaintext, aad)
    }

    /// Opens what `seal` made; fails if the secret or the key id differ.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> anyhow::Result<Zeroizing<Vec<u8>>> {
        open_with(&self.sealing, sealed, aad).map_err(|_| {
            anyhow::anyhow!(
                "cannot decrypt a signing key: the key-encryption secret differs from the one that sealed it"
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_and_binding() {
        let k = DerivedKeys::new(&[3; 32]).unwrap();
        let sealed = k.seal(b"private", b"kid-1").unwrap();
        assert_eq!(k.open(&sealed, b"kid-1").unwrap().as_slice(), b"private");
        assert!(k.open(&sealed, b"kid-2").is_err());
        assert!(DerivedKeys::new(&[4; 32]).unwrap().open(&sealed, b"kid-1").is_err());
    }

    #[test]
    fn outbox_sealing_round_trips_and_is_bound_to_its_key() {
        use roster_domain::ports::Sealer;
        let k = DerivedKeys::new(&[3; 32]).unwrap();
        let sealed = k.outbox.seal(b"reset link").unwrap();
        assert!(!sealed.windows(10).any(|w| w == b"reset link"));
        assert_eq!(k.outbox.open(&sealed).unwrap(), b"reset link");
        assert!(DerivedKeys::new(&[4; 32]).unwrap().outbox.open(&sealed).is_err());
        // The signing-key sealer uses another key.
        assert!(k.open(&sealed, OUTBOX_AAD).is_err());
        // So do TOTP secrets: neither opens the other's.
        assert!(k.mfa.open(&sealed).is_err());
        let secret = k.mfa.seal(b"totp secret bytes").unwrap();
        assert_eq!(k.mfa.open(&secret).unwrap(), b"totp secret bytes");
        assert!(k.outbox.open(&secret).is_err());
    }

    #[test]
    fn secret_formats() {
        assert!(decode_secret(&"ab".repeat(32)).is_some());
        assert!(decode_secret(&STANDARD.encode([1u8; 32])).is_some());
        assert!(decode_secret("short").is_none());
    }

    #[test]
    fn secret_file_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_secret_file(dir.path()).unwrap();
        let b = load_or_create_secret_file(dir.path()).unwrap();
        assert_eq!(*a, *b);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("secret.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
