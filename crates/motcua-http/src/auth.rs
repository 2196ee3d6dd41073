//! Who is calling: bearer tokens (HS256, signed with the server's secret) carrying the actor's
//! pseudonymous id, role and agency. API clients send `Authorization: Bearer …` (only that:
//! a cookie is never accepted on the API). The pages' browsers sign in at `/login` with a
//! token and get a server-side session: an `HttpOnly`, `SameSite=Strict` cookie holding a
//! random id (and `Secure` when the server says so), ended by `/logout` at once, with a CSRF
//! token every form carries.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use motcua_engine::{Actor, ActorRole};
use serde::{Deserialize, Serialize};

use std::collections::HashMap;
use std::sync::Arc;

use motcua_core::{looks_like_identifier, ActorId, IdentityKey};

use crate::{Api, ApiError};

/// The cookie the pages keep their session id in.
pub(crate) const COOKIE: &str = "motcua_session";

/// What a bearer token carries.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The actor's pseudonymous id.
    pub sub: String,
    /// The actor's role.
    pub role: ActorRole,
    /// The officer's agency.
    pub agency: Option<String>,
    /// Expiry, seconds since 1970-01-01T00:00Z.
    pub exp: u64,
}

/// A token for `actor`, valid for `ttl_seconds` from `now_unix` (HS256 with `secret`).
pub fn issue_token(secret: &[u8], actor: &Actor, now_unix: u64, ttl_seconds: u64) -> Result<String, ApiError> {
    let claims = Claims {
        sub: actor.id.0.to_string(),
        role: actor.role,
        agency: actor.agency.as_deref().map(str::to_string),
        exp: now_unix.saturating_add(ttl_seconds),
    };
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(secret))
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "token", &e.to_string()))
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", detail)
}

/// The most a token's expiry is stretched for clocks that disagree, in seconds.
pub const LEEWAY_SECONDS: u64 = 5;

/// The bearer token of an API request (`Authorization: Bearer …`; the pages' cookie is not
/// accepted on the API, so another site's form cannot act with a signed-in browser).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())?.strip_prefix("Bearer ")
}

/// The value of the pages' session cookie, if any.
pub(crate) fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// The actor a token names, when its signature and expiry hold. A citizen's subject (their
/// account id, which may be their CCCD) is keyed with `accounts` before it goes anywhere, and
/// so is any subject that looks like a personal identifier; the error says what is wrong in a
/// few words, never the token's content or the library's.
pub(crate) fn verify(secret: &[u8], accounts: &IdentityKey, token: &str) -> Result<Actor, ApiError> {
    verify_claims(secret, accounts, token).map(|(actor, _)| actor)
}

/// [`verify`], with the token's expiry (seconds since 1970).
pub(crate) fn verify_claims(secret: &[u8], accounts: &IdentityKey, token: &str) -> Result<(Actor, u64), ApiError> {
    let key = jsonwebtoken::DecodingKey::from_secret(secret);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.leeway = LEEWAY_SECONDS;
    let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind as K;
        unauthorized(match e.kind() {
            K::ExpiredSignature => "the token has expired",
            K::InvalidSignature | K::InvalidAlgorithm => "the token is not signed by this server",
            _ => "not a token of this server",
        })
    })?;
    let c = data.claims;
    if c.sub.is_empty() || c.sub.len() > 128 {
        return Err(unauthorized("the token's subject: 1 to 128 characters"));
    }
    let id = if c.role == ActorRole::Citizen || looks_like_identifier(&c.sub) {
        accounts.account_id(&c.sub)
    } else {
        ActorId(Arc::from(c.sub.as_str()))
    };
    let agency = c.agency.as_deref().map(str::trim).filter(|a| !a.is_empty());
    let actor = match (c.role, agency) {
        (ActorRole::Citizen | ActorRole::System, _) => Actor { id, role: c.role, agency: None },
        (role, Some(agency)) if agency.len() <= 64 => Actor { id, role, agency: Some(Arc::from(agency)) },
        (_, Some(_)) => return Err(unauthorized("the token's agency: at most 64 characters")),
        (_, None) => return Err(unauthorized("an officer's token names an agency")),
    };
    Ok((actor, c.exp))
}

/// The caller of an API request, from its bearer token.
pub(crate) fn caller(secret: &[u8], accounts: &IdentityKey, headers: &HeaderMap) -> Result<Actor, ApiError> {
    let token = bearer(headers).ok_or_else(|| unauthorized("a bearer token is required"))?;
    verify(secret, accounts, token)
}

/// The caller, from a verified bearer token.
pub(crate) struct Caller(pub Actor);

impl<S: Send + Sync + 'static> FromRequestParts<Api<S>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &Api<S>) -> Result<Caller, ApiError> {
        caller(&api.secret, &api.accounts, &parts.headers).map(Caller)
    }
}

/// A signed-in browser's session, kept on the server: who, until when, and the token its
/// forms must carry (CSRF). The cookie holds only the session's random id.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub actor: Actor,
    pub csrf: String,
    pub until: std::time::Instant,
}

/// The sessions of signed-in browsers: bounded in number, each ending at its token's expiry
/// or [`SESSION_TTL`] whichever comes first, or at logout (removed at once).
#[derive(Default)]
pub(crate) struct Sessions {
    live: std::sync::Mutex<HashMap<String, Session>>,
}

/// The longest a page session lasts.
pub(crate) const SESSION_TTL: std::time::Duration = std::time::Duration::from_secs(8 * 3600);

/// The most sessions kept at once (the oldest expiring first make room).
pub(crate) const MAX_SESSIONS: usize = 10_000;

/// 32 random bytes as hex (a session id or a CSRF token).
pub(crate) fn random_hex() -> String {
    let a = uuid::Uuid::new_v4();
    let b = uuid::Uuid::new_v4();
    format!("{}{}", a.simple(), b.simple())
}

impl Sessions {
    /// A new session for `actor`, lasting `ttl` at most: its id.
    pub fn open(&self, actor: Actor, ttl: std::time::Duration) -> Option<String> {
        let now = std::time::Instant::now();
        let mut live = self.live.lock().ok()?;
        live.retain(|_, s| s.until > now);
        if live.len() >= MAX_SESSIONS {
            let oldest = live.iter().min_by_key(|(_, s)| s.until).map(|(k, _)| k.clone())?;
            live.remove(&oldest);
        }
        let id = random_hex();
        live.insert(id.clone(), Session { actor, csrf: random_hex(), until: now + ttl.min(SESSION_TTL) });
        Some(id)
    }

    /// The live session `id`, if any.
    pub fn get(&self, id: &str) -> Option<Session> {
        let live = self.live.lock().ok()?;
        live.get(id).filter(|s| s.until > std::time::Instant::now()).cloned()
    }

    /// Ends session `id` (logout).
    pub fn close(&self, id: &str) {
        if let Ok(mut live) = self.live.lock() {
            live.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::http::HeaderValue;

    fn accounts() -> IdentityKey {
        IdentityKey::derived(b"0123456789abcdef", "accounts")
    }

    #[test]
    fn the_cookie_is_found_among_others_and_the_api_takes_only_the_header() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; motcua_session=abc; b=2"));
        assert_eq!(cookie(&h), Some("abc"));
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer xyz"));
        assert_eq!(bearer(&h), Some("xyz"));
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("motcua_sessionx=abc"));
        assert_eq!(cookie(&h), None);
    }

    #[test]
    fn tokens_round_trip_and_forgeries_fail() {
        let actor = Actor::officer("clerk-1", ActorRole::Clerk, "H42.12");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let t = issue_token(b"0123456789abcdef", &actor, now, 60).unwrap();
        assert_eq!(verify(b"0123456789abcdef", &accounts(), &t).unwrap(), actor);
        assert_eq!(verify(b"another secret!!", &accounts(), &t).unwrap_err().status(), StatusCode::UNAUTHORIZED);
        let expired = issue_token(b"0123456789abcdef", &actor, now - 7200, 60).unwrap();
        assert!(verify(b"0123456789abcdef", &accounts(), &expired).is_err());
        // Expired 30 s ago: beyond the few seconds of leeway.
        let just = issue_token(b"0123456789abcdef", &actor, now - 90, 60).unwrap();
        assert!(verify(b"0123456789abcdef", &accounts(), &just).is_err());
    }

    #[test]
    fn a_citizens_account_and_any_identifier_like_subject_are_keyed() {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let key = b"0123456789abcdef";
        let t = issue_token(key, &Actor::citizen("079123456789"), now, 60).unwrap();
        let a = verify(key, &accounts(), &t).unwrap();
        assert!(a.id.0.starts_with("a1") && !a.id.0.contains("079123456789"), "{}", a.id);
        // The same account however it is spelled.
        let t2 = issue_token(key, &Actor::citizen(" 079 123\u{200b}456-789"), now, 60).unwrap();
        assert_eq!(verify(key, &accounts(), &t2).unwrap().id, a.id);
        let t = issue_token(key, &Actor::officer("cccd:079123456789", ActorRole::Clerk, "H42.12"), now, 60).unwrap();
        assert!(!verify(key, &accounts(), &t).unwrap().id.0.contains("079123456789"));
    }
}
