//! Who is calling: bearer tokens (HS256, signed with the server's secret) carrying the actor's
//! pseudonymous id, role and agency. API clients send `Authorization: Bearer …`; the pages'
//! browsers carry the same token in an `HttpOnly`, `SameSite=Strict` cookie set by `/login`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use motcua_engine::{Actor, ActorRole};
use serde::{Deserialize, Serialize};

use crate::{Api, ApiError};

/// The cookie the pages keep the token in.
pub(crate) const COOKIE: &str = "motcua_token";

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

/// The token a request presents: the bearer header, else the pages' cookie.
pub(crate) fn presented(headers: &HeaderMap) -> Option<&str> {
    if let Some(bearer) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return bearer.strip_prefix("Bearer ");
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// The actor a token names, when its signature and expiry hold.
pub(crate) fn verify(secret: &[u8], token: &str) -> Result<Actor, ApiError> {
    let key = jsonwebtoken::DecodingKey::from_secret(secret);
    let data = jsonwebtoken::decode::<Claims>(token, &key, &jsonwebtoken::Validation::default())
        .map_err(|e| unauthorized(&format!("bad token: {e}")))?;
    let c = data.claims;
    match (c.role, c.agency.as_deref()) {
        (ActorRole::Citizen, _) => Ok(Actor::citizen(&c.sub)),
        (ActorRole::System, _) => Ok(Actor::system(&c.sub)),
        (role, Some(agency)) => Ok(Actor::officer(&c.sub, role, agency)),
        (_, None) => Err(unauthorized("an officer's token names an agency")),
    }
}

/// The caller of a request, from its headers.
pub(crate) fn caller(secret: &[u8], headers: &HeaderMap) -> Result<Actor, ApiError> {
    let token = presented(headers).ok_or_else(|| unauthorized("a bearer token is required"))?;
    verify(secret, token)
}

/// The caller, from a verified bearer token (or the pages' cookie).
pub(crate) struct Caller(pub Actor);

impl<S: Send + Sync + 'static> FromRequestParts<Api<S>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &Api<S>) -> Result<Caller, ApiError> {
        caller(&api.secret, &parts.headers).map(Caller)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_cookie_is_found_among_others_and_the_header_wins() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; motcua_token=abc; b=2"));
        assert_eq!(presented(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer xyz"));
        assert_eq!(presented(&h), Some("xyz"));
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("motcua_tokenx=abc"));
        assert_eq!(presented(&h), None);
    }

    #[test]
    fn tokens_round_trip_and_forgeries_fail() {
        let actor = Actor::officer("clerk-1", ActorRole::Clerk, "H42.12");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let t = issue_token(b"0123456789abcdef", &actor, now, 60).unwrap();
        assert_eq!(verify(b"0123456789abcdef", &t).unwrap(), actor);
        assert_eq!(verify(b"another secret!!", &t).unwrap_err().status(), StatusCode::UNAUTHORIZED);
        let expired = issue_token(b"0123456789abcdef", &actor, now - 7200, 60).unwrap();
        assert!(verify(b"0123456789abcdef", &expired).is_err());
    }
}
