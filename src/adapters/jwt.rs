//! `TokenSigner` with EdDSA (Ed25519) JWTs, and the key ring behind it.
//!
//! Keys are generated on first start and stored in PostgreSQL with the
//! private half sealed by the key-encryption secret. Several processes may
//! start at once: each inserts a key if none exists, then all of them sign
//! with the oldest active key and accept every active one.

use std::collections::HashMap;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{
    decode, decode_header, encode, errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use ring::{
    rand::SystemRandom,
    signature::{Ed25519KeyPair, KeyPair},
};
use roster_domain::{auth::AccessClaims, error::TokenRejection, ports::TokenSigner};
use roster_postgres::signing_keys::{PgSigningKeyStore, StoredSigningKey};
use sha2::{Digest, Sha256};

use crate::secrets::DerivedKeys;

pub struct JwtSigner {
    kid: String,
    encoding: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    validation: Validation,
    jwks: serde_json::Value,
}

impl JwtSigner {
    /// Loads the active keys (creating the first one if there is none).
    pub async fn load(
        store: &PgSigningKeyStore,
        keys: &DerivedKeys,
        issuer: &str,
        audience: &str,
    ) -> anyhow::Result<JwtSigner> {
        let mut active = store.active_keys().await?;
        if active.is_empty() {
            store.insert(&generate(keys)?).await?;
            active = store.active_keys().await?;
        }
        let Some(current) = active.first() else {
            anyhow::bail!("no signing key could be stored");
        };
        let private = keys.open(&current.private_key_sealed, current.kid.as_bytes())?;
        let pair = Ed25519KeyPair::from_pkcs8(&private)
            .map_err(|_| anyhow::anyhow!("signing key {} is not a valid Ed25519 key", current.kid))?;
        if pair.public_key().as_ref() != current.public_key.as_slice() {
            anyhow::bail!("signing key {} does not match its public key", current.kid);
        }
        let mut verifying = HashMap::new();
        let mut jwks = Vec::new();
        for key in &active {
            let x = URL_SAFE_NO_PAD.encode(&key.public_key);
            verifying.insert(key.kid.clone(), DecodingKey::from_ed_components(&x)?);
            jwks.push(serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": key.kid, "alg": "EdDSA", "use": "sig"}));
        }
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 30;
        Ok(JwtSigner {
            kid: current.kid.clone(),
            encoding: EncodingKey::from_ed_der(&private),
            verifying,
            validation,
            jwks: serde_json::json!({ "keys": jwks }),
        })
    }

    /// The JSON Web Key Set of every active key.
    pub fn jwks(&self) -> serde_json::Value {
        self.jwks.clone()
    }
}

fn generate(keys: &DerivedKeys) -> anyhow::Result<StoredSigningKey> {
    let pkcs8 =
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| anyhow::anyhow!("key generation failed"))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| anyhow::anyhow!("key generation failed"))?;
    let public = pair.public_key().as_ref().to_vec();
    let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(&public)[..12]);
    Ok(StoredSigningKey {
        private_key_sealed: keys.seal(pkcs8.as_ref(), kid.as_bytes())?,
        kid,
        algorithm: "EdDSA".into(),
        public_key: public,
        created_at: chrono::Utc::now(),
    })
}

impl TokenSigner for JwtSigner {
    fn sign(&self, claims: &AccessClaims) -> Result<String, String> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".into());
        encode(&header, claims, &self.encoding).map_err(|e| e.to_string())
    }

    fn verify(&self, token: &str) -> Result<AccessClaims, TokenRejection> {
        // The header decides nothing but which of our keys to try: the
        // algorithm is pinned to EdDSA, so `none` and HMAC tokens fail.
        let header = decode_header(token).map_err(|_| TokenRejection::Invalid)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenRejection::Invalid);
        }
        let key = header.kid.as_deref().and_then(|k| self.verifying.get(k)).ok_or(TokenRejection::Invalid)?;
        match decode::<AccessClaims>(token, key, &self.validation) {
            Ok(data) => Ok(data.claims),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => Err(TokenRejection::Expired),
            Err(_) => Err(TokenRejection::Invalid),
        }
    }
}
