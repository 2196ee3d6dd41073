//! # motcua-http: the engine behind an HTTP API
//!
//! [`router`] is an axum `Router` a portal nests in its own application. One writer thread owns
//! the [`Engine`] and turns what queued while its last commit ran into one group commit
//! ([`Engine::handle_batch`]); reads go to the shared store directly, beside the writes.
//!
//! - `POST /api/v1/dossiers` `{"procedure": "1.000894", "channel": "direct"}`: a clerk receives
//!   at the counter (the code from the store's durable sequence for the clerk's agency), a
//!   citizen submits online (`"agency"` names where); `201` with the dossier and `Location`.
//! - `GET /api/v1/dossiers/{code}` (`ETag`: the version) and `…/{code}/history`.
//! - `POST /api/v1/dossiers/{code}/commands`: `{"command": "start_step", "step": "…"}`, the
//!   scenario files' names; `If-Match` (a version) gives `412` when stale; `Idempotency-Key`.
//! - `GET /api/v1/deadlines?view=overdue|due_soon&as_of=…&agency=…&hours=…`, `GET /healthz`.
//! - `GET /api/v1/openapi.json`: the OpenAPI 3 document ([`openapi`], utoipa), declared beside
//!   the handlers.
//!
//! Callers present a bearer token signed with the server's secret ([`issue_token`]): its
//! subject is the pseudonymous actor id, with role and agency. No token or a bad one is `401`;
//! the engine's refusal is `403`. Every error is `application/problem+json` (RFC 9457) with a
//! stable `type` per error; a body over 1 MiB is `413`, a request over 30 s `408`.

#![warn(missing_docs)]

use std::sync::{mpsc, Arc};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use motcua_calendar::{Timestamp, WorkCalendar};
use motcua_core::{AgencyCode, Channel, Command, DossierCode, Procedure, ProcedureCode};
use motcua_engine::{
    read_dossier, Actor, ActorRole, DeadlineQuery, Engine, EngineError, Outcome, Request, Store, StoreError,
};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

/// The largest request body accepted.
pub const MAX_BODY: usize = 1 << 20;

/// How long a request may take before it is answered `408` (a command already queued for the
/// writer is still written; its caller learns the outcome by reading the dossier).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

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

/// An error as `application/problem+json` (RFC 9457).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: String,
    detail: String,
}

impl ApiError {
    fn new(status: StatusCode, kind: &str, detail: &str) -> ApiError {
        ApiError { status, kind: kind.to_string(), detail: detail.to_string() }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        let status = match &e {
            EngineError::Unauthorized(_) => StatusCode::FORBIDDEN,
            EngineError::NoSuchDossier(_) => StatusCode::NOT_FOUND,
            EngineError::UnknownProcedure(_) => StatusCode::UNPROCESSABLE_ENTITY,
            EngineError::Rejected(_) | EngineError::IdempotencyConflict { .. } | EngineError::Contention(_) => {
                StatusCode::CONFLICT
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.code(), &e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::from(EngineError::Store(e))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "type": format!("/problems/{}", self.kind),
            "title": self.kind,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        let mut r = (self.status, body.to_string()).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        r
    }
}

/// A command for the writer: the request, the version the caller expects (`If-Match`), and
/// where the answer goes.
type Job = (Request, Option<u64>, oneshot::Sender<Result<Outcome, ApiError>>);

/// The API's shared state: the store, the writer's queue, the token secret and the clock.
pub struct Api<S> {
    store: Arc<S>,
    writer: mpsc::Sender<Job>,
    secret: Arc<[u8]>,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
}

impl<S> Clone for Api<S> {
    fn clone(&self) -> Self {
        Api {
            store: Arc::clone(&self.store),
            writer: self.writer.clone(),
            secret: Arc::clone(&self.secret),
            clock: Arc::clone(&self.clock),
        }
    }
}

impl<S: Store + 'static> Api<S> {
    /// Starts the writer thread (an [`Engine`] over `store` for these procedures and calendar)
    /// and returns the API's state; `clock` stamps every command (the server's clock in
    /// production, a fixed instant in tests).
    pub fn start(
        store: Arc<S>,
        procedures: Vec<Procedure>,
        calendar: WorkCalendar,
        secret: &[u8],
        clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    ) -> Api<S> {
        let (tx, rx) = mpsc::channel::<Job>();
        let mut engine = Engine::open(Arc::clone(&store), procedures, calendar);
        std::thread::spawn(move || {
            // Block for one job, then take what queued meanwhile: one group commit.
            while let Ok(first) = rx.recv() {
                let mut requests = Vec::new();
                let mut answers = Vec::new();
                for (req, expected, answer) in std::iter::once(first).chain(rx.try_iter().take(999)) {
                    if let Some(v) = expected {
                        let now = engine.dossier(&req.dossier).map(|d| d.map_or(0, |d| d.version));
                        match now {
                            Ok(actual) if actual != v => {
                                let detail = format!("{} is at version {actual}, not {v}", req.dossier);
                                let _ = answer.send(Err(ApiError::new(
                                    StatusCode::PRECONDITION_FAILED,
                                    "stale_version",
                                    &detail,
                                )));
                                continue;
                            }
                            Err(e) => {
                                let _ = answer.send(Err(e.into()));
                                continue;
                            }
                            Ok(_) => {}
                        }
                    }
                    requests.push(req);
                    answers.push(answer);
                }
                for (result, answer) in engine.handle_batch(&requests).into_iter().zip(answers) {
                    let _ = answer.send(result.map_err(ApiError::from));
                }
            }
        });
        Api { store, writer: tx, secret: Arc::from(secret), clock }
    }

    async fn submit(&self, req: Request, expected: Option<u64>) -> Result<Outcome, ApiError> {
        let (tx, rx) = oneshot::channel();
        self.writer
            .send((req, expected, tx))
            .map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "writer_stopped", "the writer has stopped"))?;
        rx.await.map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "writer_stopped", "no answer"))?
    }
}

/// The API's routes over `api` (nest them in your own `Router`).
pub fn router<S: Store + 'static>(api: Api<S>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/v1/dossiers", post(create::<S>))
        .route("/api/v1/dossiers/{code}", get(dossier::<S>))
        .route("/api/v1/dossiers/{code}/history", get(history::<S>))
        .route("/api/v1/dossiers/{code}/commands", post(command::<S>))
        .route("/api/v1/deadlines", get(deadlines::<S>))
        .route("/api/v1/openapi.json", get(|| async { axum::Json(openapi()) }))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .with_state(api)
}

/// The API's OpenAPI 3 document, generated from the handlers' annotations below.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi as _;
    #[derive(utoipa::OpenApi)]
    #[openapi(
        info(title = "motcua", description = "Vietnamese one-stop-shop dossiers: receive, move, track, deadlines."),
        paths(create_doc, dossier_doc, history_doc, command_doc, deadlines_doc, healthz_doc),
        components(schemas(NewDossierDoc, DossierDoc, ProblemDoc)),
        modifiers(&Bearer)
    )]
    struct Doc;
    Doc::openapi()
}

/// The bearer-token scheme, added to the document.
struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// `POST /api/v1/dossiers`'s body.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct NewDossierDoc {
    /// Procedure code, e.g. `1.004194`.
    procedure: String,
    /// `direct`, `online` or `postal`.
    channel: String,
    /// The receiving agency (a citizen's submission names it; an officer's defaults to theirs).
    agency: Option<String>,
}

/// A dossier (times as `YYYY-MM-DDTHH:MM+07:00`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct DossierDoc {
    code: String,
    procedure: Option<String>,
    status: Option<String>,
    national_status: Option<u8>,
    received_at: Option<String>,
    clock_start: Option<String>,
    due: Option<String>,
    finished_at: Option<String>,
    outcome: Option<String>,
    version: u64,
}

/// An error (RFC 9457), served as `application/problem+json`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ProblemDoc {
    /// `/problems/<stable code>`.
    r#type: String,
    title: String,
    status: u16,
    detail: String,
}

#[utoipa::path(post, path = "/api/v1/dossiers", request_body = NewDossierDoc, security(("bearer" = [])),
    responses((status = 201, body = DossierDoc, description = "Received (or submitted); Location names it"),
        (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
        (status = 413, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
#[allow(dead_code)]
fn create_doc() {}

#[utoipa::path(get, path = "/api/v1/dossiers/{code}", params(("code" = String, Path, description = "Dossier code")),
    security(("bearer" = [])),
    responses((status = 200, body = DossierDoc, description = "ETag: the version"), (status = 404, body = ProblemDoc)))]
#[allow(dead_code)]
fn dossier_doc() {}

#[utoipa::path(get, path = "/api/v1/dossiers/{code}/history", params(("code" = String, Path)),
    security(("bearer" = [])), responses((status = 200, description = "Events with time and hash"),
        (status = 404, body = ProblemDoc)))]
#[allow(dead_code)]
fn history_doc() {}

#[utoipa::path(post, path = "/api/v1/dossiers/{code}/commands", params(("code" = String, Path),
        ("If-Match" = Option<String>, Header, description = "The version the command expects"),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeats return the first outcome")),
    request_body(content = Object, description = "A command: {\"command\": \"start_step\", \"step\": …}, the scenario files' names"),
    security(("bearer" = [])),
    responses((status = 200, body = DossierDoc), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc), (status = 412, body = ProblemDoc)))]
#[allow(dead_code)]
fn command_doc() {}

#[utoipa::path(get, path = "/api/v1/deadlines", params(
        ("view" = Option<String>, Query, description = "overdue (default) or due_soon"),
        ("as_of" = Option<String>, Query, description = "The instant (default: now)"),
        ("agency" = Option<String>, Query, description = "Receiving agency"),
        ("hours" = Option<u32>, Query, description = "due_soon's window in hours (default 16)")),
    security(("bearer" = [])), responses((status = 200, description = "Open dossiers by due time"),
        (status = 400, body = ProblemDoc)))]
#[allow(dead_code)]
fn deadlines_doc() {}

#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "ok")))]
#[allow(dead_code)]
fn healthz_doc() {}

/// The caller, from a verified bearer token.
struct Caller(Actor);

impl<S: Send + Sync + 'static> FromRequestParts<Api<S>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &Api<S>) -> Result<Caller, ApiError> {
        let unauthorized = |d: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", d);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorized("a bearer token is required"))?;
        let key = jsonwebtoken::DecodingKey::from_secret(&api.secret);
        let data = jsonwebtoken::decode::<Claims>(token, &key, &jsonwebtoken::Validation::default())
            .map_err(|e| unauthorized(&format!("bad token: {e}")))?;
        let c = data.claims;
        let actor = match (c.role, c.agency.as_deref()) {
            (ActorRole::Citizen, _) => Actor::citizen(&c.sub),
            (ActorRole::System, _) => Actor::system(&c.sub),
            (role, Some(agency)) => Actor::officer(&c.sub, role, agency),
            (_, None) => return Err(unauthorized("an officer's token names an agency")),
        };
        Ok(Caller(actor))
    }
}

/// A JSON body read as bytes: malformed JSON is a 400 problem, not axum's plain text.
fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_json", &e.to_string()))
}

fn parse_code(code: &str) -> Result<DossierCode, ApiError> {
    code.parse().map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_code", &format!("{code:?}: {e}")))
}

/// Runs blocking store work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", &e.to_string()))?
}

/// A dossier as the API shows it (times as `YYYY-MM-DDTHH:MM+07:00`).
#[derive(Serialize)]
struct DossierView {
    code: String,
    procedure: Option<String>,
    status: Option<&'static str>,
    national_status: Option<u8>,
    received_at: Option<String>,
    clock_start: Option<String>,
    due: Option<String>,
    finished_at: Option<String>,
    outcome: Option<motcua_core::Outcome>,
    version: u64,
}

fn view(code: &DossierCode, d: &motcua_core::Dossier) -> DossierView {
    let t = |x: Option<Timestamp>| x.map(|t| t.to_string());
    DossierView {
        code: code.to_string(),
        procedure: d.procedure.as_ref().map(|p| p.to_string()),
        status: d.status.map(|s| s.code()),
        national_status: d.status.map(|s| s.national().code()),
        received_at: t(d.received_at),
        clock_start: t(d.clock_start),
        due: t(d.due),
        finished_at: t(d.finished_at),
        outcome: d.outcome,
        version: d.version,
    }
}

fn with_etag(status: StatusCode, v: &DossierView) -> Response {
    let mut r = (status, axum::Json(v)).into_response();
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{}\"", v.version)) {
        r.headers_mut().insert(header::ETAG, tag);
    }
    r
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewDossier {
    procedure: ProcedureCode,
    channel: Channel,
    agency: Option<AgencyCode>,
}

async fn create<S: Store + 'static>(
    State(api): State<Api<S>>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let new: NewDossier = json_body(&body)?;
    // The body's agency, else the officer's own (the engine refuses an officer receiving for
    // another agency).
    let agency = match (new.agency, actor.agency.as_deref()) {
        (Some(a), _) => a,
        (None, Some(a)) => {
            a.parse().map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_agency", &format!("{a:?}: {e}")))?
        }
        (None, None) => {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "agency_required", "name the receiving agency"))
        }
    };
    let now = (api.clock)();
    let store = Arc::clone(&api.store);
    let date = now.local_date();
    let seq = blocking(move || Ok(store.next_sequence(&agency, date).map(|n| (agency, n))?)).await?;
    let code = DossierCode::new(seq.0, date, seq.1);
    let command = if actor.role == ActorRole::Citizen {
        Command::Submit { procedure: new.procedure, channel: new.channel }
    } else {
        Command::Receive { procedure: new.procedure, channel: new.channel }
    };
    let req = Request { dossier: code.clone(), command, actor, idempotency_key: None, now };
    api.submit(req, None).await?;
    let store = Arc::clone(&api.store);
    let read = code.clone();
    let state = blocking(move || Ok(read_dossier(&*store, &read)?)).await?;
    let state =
        state.ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "lost", "written but not read"))?;
    let mut r = with_etag(StatusCode::CREATED, &view(&code, &state));
    if let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/dossiers/{code}")) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(r)
}

/// The dossier's stream, if `actor` may see it (a citizen sees only their own; others are
/// told it does not exist).
async fn visible<S: Store + 'static>(
    api: &Api<S>,
    actor: &Actor,
    code: DossierCode,
) -> Result<motcua_engine::store::Stream, ApiError> {
    let store = Arc::clone(&api.store);
    let shown = code.to_string();
    let stream = blocking(move || Ok(store.load(&code)?)).await?;
    let missing = || ApiError::new(StatusCode::NOT_FOUND, "no_such_dossier", &format!("no dossier {shown}"));
    let stream = stream.ok_or_else(missing)?;
    if actor.role == ActorRole::Citizen && stream.parties.applicant.as_ref() != Some(&actor.id) {
        return Err(missing());
    }
    Ok(stream)
}

async fn dossier<S: Store + 'static>(
    State(api): State<Api<S>>,
    Caller(actor): Caller,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let code = parse_code(&code)?;
    let stream = visible(&api, &actor, code.clone()).await?;
    let state = motcua_core::Dossier::replay(stream.events.iter().map(|e| &e.event));
    Ok(with_etag(StatusCode::OK, &view(&code, &state)))
}

async fn history<S: Store + 'static>(
    State(api): State<Api<S>>,
    Caller(actor): Caller,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let code = parse_code(&code)?;
    let stream = visible(&api, &actor, code.clone()).await?;
    let events: Vec<serde_json::Value> = stream
        .events
        .iter()
        .map(|e| {
            serde_json::json!({
                "seq": e.seq,
                "at": e.event.at().to_string(),
                "event": e.event,
                "hash": motcua_engine::hex(&e.hash),
            })
        })
        .collect();
    Ok(axum::Json(serde_json::json!({ "code": code.to_string(), "events": events })).into_response())
}

async fn command<S: Store + 'static>(
    State(api): State<Api<S>>,
    Caller(actor): Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let code = parse_code(&code)?;
    let command: Command = json_body(&body)?;
    let expected = match headers.get(header::IF_MATCH).map(|v| v.to_str().unwrap_or_default().trim_matches('"')) {
        None => None,
        Some(v) => Some(v.parse::<u64>().map_err(|_| {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_if_match", "If-Match holds a version (a number)")
        })?),
    };
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    let now = (api.clock)();
    let req = Request { dossier: code.clone(), command, actor, idempotency_key: key, now };
    api.submit(req, expected).await?;
    let store = Arc::clone(&api.store);
    let read = code.clone();
    let state = blocking(move || Ok(read_dossier(&*store, &read)?)).await?;
    let state = state.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no_such_dossier", "gone"))?;
    Ok(with_etag(StatusCode::OK, &view(&code, &state)))
}

#[derive(Deserialize)]
struct DeadlinesParams {
    view: Option<String>,
    as_of: Option<String>,
    agency: Option<String>,
    hours: Option<u32>,
}

async fn deadlines<S: Store + 'static>(
    State(api): State<Api<S>>,
    Caller(_actor): Caller,
    Query(p): Query<DeadlinesParams>,
) -> Result<Response, ApiError> {
    let bad = |kind: &str, d: String| ApiError::new(StatusCode::BAD_REQUEST, kind, &d);
    let as_of = match &p.as_of {
        Some(t) => t.parse::<Timestamp>().map_err(|e| bad("bad_time", format!("as_of {t:?}: {e}")))?,
        None => (api.clock)(),
    };
    let mut q = match p.view.as_deref().unwrap_or("overdue") {
        "overdue" => DeadlineQuery::overdue(as_of),
        "due_soon" => DeadlineQuery::due_before(as_of, as_of.plus_minutes(i64::from(p.hours.unwrap_or(16)) * 60)),
        other => return Err(bad("bad_view", format!("view {other:?}: expected overdue or due_soon"))),
    };
    if let Some(a) = &p.agency {
        q.agency = Some(a.parse().map_err(|e| bad("bad_agency", format!("{a:?}: {e}")))?);
    }
    q.limit = 500;
    let store = Arc::clone(&api.store);
    let page = blocking(move || Ok(store.deadlines(&q)?)).await?;
    let rows: Vec<serde_json::Value> = page
        .rows
        .iter()
        .map(|s| {
            serde_json::json!({
                "code": s.dossier.to_string(),
                "procedure": s.procedure.as_ref().map(|p| p.to_string()),
                "status": s.status,
                "due": s.due.map(|t| t.to_string()),
            })
        })
        .collect();
    Ok(axum::Json(serde_json::json!({ "as_of": as_of.to_string(), "rows": rows })).into_response())
}
