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
//! - `GET /api/v1/report?format=json|csv|html&from=YYYY-MM-DD&to=…&as_of=…` (officers).
//! - `GET /api/v1/track/{code}`: anyone, by code: status and due time, no personal data.
//! - `GET /api/v1/applicants/{key}/results?on=YYYY-MM-DD` (officers): the results held under an
//!   applicant's pseudonymous key that are in force that day (what a new dossier may reuse).
//! - `GET /api/v1/openapi.json`: the OpenAPI 3 document ([`openapi`], utoipa), declared beside
//!   the handlers.
//!
//! Callers present a bearer token signed with the server's secret ([`issue_token`]): its
//! subject is the actor id (a citizen's is keyed before use), with role and agency. No token
//! or a bad one is `401`; the engine's refusal is `403`; a dossier the caller may not see is
//! `404` like an unknown one. Every error is `application/problem+json` (RFC 9457) with a
//! stable `type` per error and a short detail; a body over 1 MiB is `413`, a request over 30 s
//! `408`, a store whose server does not answer `503` with `Retry-After`. Every response carries
//! the security headers ([`CONTENT_SECURITY_POLICY`], no framing, `nosniff`, `no-store`).
//!
//! The same router serves the reference portal's pages (`/`, `/counter`, `/track`, `/login`):
//! see the `pages` module. Each request is logged as a `tracing` event (target
//! `motcua_http::access`) with the verified actor id, never a body. Serve it with [`serve`]
//! (a header read timeout, a connection cap, the client's address for the rate limits of the
//! anonymous routes); a portal nesting the router in its own server gets the rate limits when
//! it serves with axum's `into_make_service_with_connect_info::<SocketAddr>()`.

#![warn(missing_docs)]

use std::collections::HashMap;
use std::sync::{mpsc, Arc};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{Datelike, NaiveDate};
use motcua_calendar::{Timestamp, WorkCalendar};
use motcua_core::{AgencyCode, Channel, Command, DossierCode, Procedure, ProcedureCode, Register};
use motcua_engine::{
    read_dossier, Actor, ActorRole, DeadlineQuery, Engine, EngineError, Outcome, Request, Store, StoreError,
};
use motcua_report::{Report, ReportBuilder};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

mod auth;
mod openapi;
mod pages;
mod serve;

use auth::Caller;
pub use auth::{issue_token, Claims};
pub use openapi::openapi;
pub use serve::{serve, Limits};

/// What `Retry-After` says when the store's server does not answer (503), in seconds.
const RETRY_AFTER_SECONDS: &str = "5";

/// The most bytes of headers a request may carry (`431` problem+json past it).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The largest request body accepted.
pub const MAX_BODY: usize = 1 << 20;

/// How long a request may take before it is answered `408` (a command already queued for the
/// writer is still written; its caller learns the outcome by reading the dossier).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// An error as `application/problem+json` (RFC 9457).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: String,
    detail: String,
}

impl ApiError {
    fn new(status: StatusCode, kind: &str, detail: &str) -> ApiError {
        ApiError { status, kind: kind.to_string(), detail: short_detail(&detail) }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        // The store's server not answering: try again later (503 with Retry-After), saying
        // which store and no more.
        if let EngineError::Store(s @ StoreError::Unavailable { .. }) = &e {
            tracing::warn!(target: "motcua_http::store", error = %s, "store unavailable");
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the store's server does not answer; nothing was written unless the dossier says so; try again shortly",
            );
        }
        if let EngineError::Store(s) = &e {
            tracing::error!(target: "motcua_http::store", error = %s, "store failed");
            return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "store", "the store failed");
        }
        let status = match &e {
            EngineError::Unauthorized(_) => StatusCode::FORBIDDEN,
            EngineError::NoSuchDossier(_) => StatusCode::NOT_FOUND,
            EngineError::UnknownProcedure(_) | EngineError::NotInForce { .. } | EngineError::CodeDate { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            EngineError::CodeTaken(_) => StatusCode::CONFLICT,
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
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
        }
        r
    }
}

/// A command for the writer: the request, the version the caller expects (`If-Match`), and
/// where the answer goes.
struct Job {
    req: Request,
    expected: Option<u64>,
    /// The request creates a dossier under a code the writer issues (its dossier code names
    /// only the receiving agency): the writer asks the engine first ([`Engine::admit`]), so
    /// that a refused request uses no number of the durable sequence.
    issue: bool,
    answer: oneshot::Sender<Result<Outcome, ApiError>>,
}

/// How the API runs ([`Api::start_with`]).
#[derive(Clone, Debug)]
pub struct Options {
    /// The register of units step roles resolve through (none: steps keep their labels).
    pub units: Option<Arc<Register>>,
    /// At most this many commands per commit (at least 1; `1` gives one transaction per
    /// request, the baseline the load generator compares group commits with).
    pub max_batch: usize,
    /// The province's secret that keys applicants' identifiers (none: a dossier naming an
    /// applicant's CCCD or tax code is refused, as it could not be kept).
    pub identity: Option<motcua_core::IdentityKey>,
    /// The digitisation rules receipts are checked against (none: not checked).
    pub digitisation: Option<Arc<motcua_core::DigitisationRules>>,
    /// The pages' session cookie is marked `Secure` (sent over HTTPS only): set it when the
    /// portal is served over HTTPS, as it should be outside a test.
    pub secure_cookie: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options { units: None, max_batch: 1000, identity: None, digitisation: None, secure_cookie: false }
    }
}

/// Sets its flag when dropped: a request's future dropped mid-way (the client went, the
/// timeout fired) tells the blocking work it started to stop.
struct CancelOnDrop(Arc<std::sync::atomic::AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A report and when it was built.
type Built = (std::time::Instant, Arc<Report>);

/// How long the dashboard's report is kept before it is built again.
const DASHBOARD_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// The longest span of receipt days a report covers (`from` to `to`), in days: ten years.
pub const MAX_REPORT_SPAN_DAYS: i64 = 3660;

/// How far past the server's clock a report's or a deadline list's `as_of` may be, in days
/// (the data holds nothing later; an absurd instant would only make work).
pub const MAX_AS_OF_AHEAD_DAYS: i64 = 366;

/// Whether `sight` sees the dossier of summary `s`.
fn sees_summary(
    sight: &motcua_core::Sight,
    s: &motcua_engine::store::DossierSummary,
    register: Option<&Register>,
    today: NaiveDate,
) -> bool {
    let parties = motcua_core::Parties::default();
    let seen = motcua_core::Visible {
        receiving: s.dossier.agency().as_str(),
        jurisdiction: s.jurisdiction.as_deref(),
        online: s.channel == Some(Channel::Online.code()),
        parties: &parties,
    };
    sight.sees(seen, s.steps.iter().flatten().map(|x| &*x.agency), register, today)
}

/// `as_of` checked to be a real instant of the data: from 2000 to [`MAX_AS_OF_AHEAD_DAYS`]
/// past `now`.
fn bounded_as_of(raw: &Option<String>, now: Timestamp) -> Result<Timestamp, ApiError> {
    let Some(t) = raw else { return Ok(now) };
    let bad = |d: &str| ApiError::new(StatusCode::BAD_REQUEST, "bad_time", d);
    let t: Timestamp = t.parse().map_err(|_| bad("as_of: YYYY-MM-DDTHH:MM (local) or RFC 3339"))?;
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    if t.local_date() < earliest || t.local_date() > now.local_date() + chrono::Days::new(MAX_AS_OF_AHEAD_DAYS as u64) {
        return Err(bad(&format!("as_of: from 2000-01-01 to {MAX_AS_OF_AHEAD_DAYS} days after today")));
    }
    Ok(t)
}

/// The API's shared state: the store, the writer's queue, the token secret and the clock.
pub struct Api<S> {
    store: Arc<S>,
    writer: mpsc::Sender<Job>,
    secret: Arc<[u8]>,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    /// Each procedure's (name, sector), for reports and pages.
    procedures: Arc<HashMap<ProcedureCode, (String, String)>>,
    /// The procedures' cases with limits of their own (code, case id, case name), for the
    /// counter's choice.
    cases: Arc<Vec<(ProcedureCode, String, String)>>,
    /// The calendar reports measure resolution time with.
    calendar: Arc<WorkCalendar>,
    /// The dashboard's report and when it was built (rebuilt at most once a minute).
    dashboard: Arc<std::sync::Mutex<Option<Built>>>,
    /// The register of units, if any (the counter offers its units).
    units: Option<Arc<Register>>,
    /// The province's identity key (applicants' identifiers are keyed with it).
    identity: Option<Arc<motcua_core::IdentityKey>>,
    /// What citizens' account ids are keyed with: the identity key, or one derived from the
    /// token secret when the server has none.
    accounts: Arc<motcua_core::IdentityKey>,
    /// The pages' signed-in sessions.
    sessions: Arc<auth::Sessions>,
    /// Whether the session cookie is `Secure`.
    secure_cookie: bool,
    /// Held while the dashboard's report is rebuilt: one rebuild at a time.
    rebuilding: Arc<tokio::sync::Mutex<()>>,
    /// Requests to the anonymous routes per client address.
    limiter: Arc<RateLimiter>,
}

impl<S> Clone for Api<S> {
    fn clone(&self) -> Self {
        Api {
            store: Arc::clone(&self.store),
            writer: self.writer.clone(),
            secret: Arc::clone(&self.secret),
            clock: Arc::clone(&self.clock),
            procedures: Arc::clone(&self.procedures),
            cases: Arc::clone(&self.cases),
            calendar: Arc::clone(&self.calendar),
            dashboard: Arc::clone(&self.dashboard),
            units: self.units.clone(),
            identity: self.identity.clone(),
            accounts: Arc::clone(&self.accounts),
            sessions: Arc::clone(&self.sessions),
            secure_cookie: self.secure_cookie,
            rebuilding: Arc::clone(&self.rebuilding),
            limiter: Arc::clone(&self.limiter),
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
        Api::start_with(store, procedures, calendar, secret, clock, Options::default())
    }

    /// [`Api::start`] with [`Options`]: a register of units, a batch limit.
    pub fn start_with(
        store: Arc<S>,
        procedures: Vec<Procedure>,
        calendar: WorkCalendar,
        secret: &[u8],
        clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
        options: Options,
    ) -> Api<S> {
        let max_batch = options.max_batch.max(1);
        let (tx, rx) = mpsc::channel::<Job>();
        let names = procedures.iter().map(|p| (p.code.clone(), (p.name.clone(), p.sector.clone()))).collect();
        let mut cases: Vec<(ProcedureCode, String, String)> = Vec::new();
        for p in &procedures {
            for c in &p.cases {
                if !cases.iter().any(|(code, id, _)| *code == p.code && *id == c.id) {
                    cases.push((p.code.clone(), c.id.clone(), c.name.clone()));
                }
            }
        }
        cases.sort();
        let report_calendar = Arc::new(calendar.clone());
        let mut engine = Engine::new(Arc::clone(&store), procedures, calendar);
        if let Some(units) = &options.units {
            engine = engine.with_units(Arc::clone(units));
        }
        if let Some(rules) = &options.digitisation {
            engine = engine.with_digitisation(Arc::clone(rules));
        }
        std::thread::spawn(move || {
            // Block for one job, then take what queued meanwhile: one group commit. A command
            // with If-Match on a dossier already in the batch waits for the next one, so that
            // its version is checked after the earlier command's commit.
            let mut pending = std::collections::VecDeque::new();
            loop {
                if pending.is_empty() {
                    match rx.recv() {
                        Ok(job) => pending.push_back(job),
                        Err(_) => break,
                    }
                }
                pending.extend(rx.try_iter().take(max_batch.saturating_sub(pending.len())));
                let mut in_batch = std::collections::HashSet::new();
                let mut later = std::collections::VecDeque::new();
                let mut requests = Vec::new();
                let mut answers = Vec::new();
                for job in pending.drain(..) {
                    let Job { mut req, expected, issue, answer } = job;
                    if requests.len() == max_batch || (expected.is_some() && in_batch.contains(&req.dossier)) {
                        later.push_back(Job { req, expected, issue, answer });
                        continue;
                    }
                    if issue {
                        let code = engine.admit(&req).and_then(|()| engine.issue_code(req.dossier.agency(), req.now));
                        match code {
                            Ok(code) => req.dossier = code,
                            Err(e) => {
                                let _ = answer.send(Err(e.into()));
                                continue;
                            }
                        }
                    }
                    if let Some(v) = expected {
                        match engine.dossier(&req.dossier).map(|d| d.map_or(0, |d| d.version)) {
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
                    in_batch.insert(req.dossier.clone());
                    requests.push(req);
                    answers.push(answer);
                }
                for (result, answer) in engine.handle_batch(&requests).into_iter().zip(answers) {
                    let _ = answer.send(result.map_err(ApiError::from));
                }
                pending = later;
            }
        });
        Api {
            store,
            writer: tx,
            secret: Arc::from(secret),
            clock,
            procedures: Arc::new(names),
            cases: Arc::new(cases),
            calendar: report_calendar,
            dashboard: Arc::default(),
            units: options.units,
            accounts: Arc::new(match &options.identity {
                Some(k) => k.clone(),
                None => motcua_core::IdentityKey::derived(secret, "motcua account ids"),
            }),
            identity: options.identity.map(Arc::new),
            sessions: Arc::default(),
            secure_cookie: options.secure_cookie,
            rebuilding: Arc::default(),
            limiter: Arc::default(),
        }
    }

    async fn submit(&self, req: Request, expected: Option<u64>) -> Result<Outcome, ApiError> {
        self.send(Job { req, expected, issue: false, answer: oneshot::channel().0 }).await
    }

    /// Creates a dossier under a code the writer issues for `req`'s receiving agency and
    /// today (only once the engine admits the request): its outcome names the code.
    async fn create_dossier(&self, req: Request) -> Result<Outcome, ApiError> {
        self.send(Job { req, expected: None, issue: true, answer: oneshot::channel().0 }).await
    }

    async fn send(&self, mut job: Job) -> Result<Outcome, ApiError> {
        let (tx, rx) = oneshot::channel();
        job.answer = tx;
        self.writer
            .send(job)
            .map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "writer_stopped", "the writer has stopped"))?;
        rx.await.map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "writer_stopped", "no answer"))?
    }
}

/// The API's routes and the reference portal's pages over `api` (nest them in your own
/// `Router`): `/api/v1/…`, `/healthz`, and the pages `/`, `/counter`, `/track`, `/login`.
pub fn router<S: Store + 'static>(api: Api<S>) -> Router {
    serve_with(api_routes::<S>().merge(pages::routes::<S>()), api)
}

/// The API alone, for a portal that has its own pages: `/api/v1/…` and `/healthz`, with the
/// same limits, hardening and access log as [`router`].
pub fn api_router<S: Store + 'static>(api: Api<S>) -> Router {
    serve_with(api_routes::<S>(), api)
}

/// The reference pages alone (`/`, `/counter`, `/track`, `/login`), with the same limits,
/// hardening and access log as [`router`].
pub fn pages_router<S: Store + 'static>(api: Api<S>) -> Router {
    serve_with(pages::routes::<S>(), api)
}

fn api_routes<S: Store + 'static>() -> Router<Api<S>> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/v1/dossiers", post(create::<S>))
        .route("/api/v1/dossiers/{code}", get(dossier::<S>))
        .route("/api/v1/dossiers/{code}/history", get(history::<S>))
        .route("/api/v1/dossiers/{code}/commands", post(command::<S>))
        .route("/api/v1/portal/submissions", post(portal_submission::<S>))
        .route("/api/v1/deadlines", get(deadlines::<S>))
        .route("/api/v1/report", get(report::<S>))
        .route("/api/v1/track/{code}", get(track::<S>))
        .route("/api/v1/applicants/{key}/results", get(applicant_results::<S>))
        .route("/api/v1/openapi.json", get(|| async { axum::Json(openapi()) }))
}

/// Routes with what every request gets: problem+json for unknown routes and methods, the body
/// limit, the timeout, the rate limit, the hardening headers and the access log.
fn serve_with<S: Store + 'static>(routes: Router<Api<S>>, api: Api<S>) -> Router {
    routes
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(axum::middleware::from_fn_with_state(api.clone(), rate_limit::<S>))
        .layer(axum::middleware::from_fn(harden))
        .layer(axum::middleware::from_fn_with_state(api.clone(), access_log::<S>))
        .with_state(api)
}

/// A JSON body read as bytes: malformed JSON is a 400 problem, not axum's plain text.
fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_json", &short_detail(&e)))
}

/// An input error's message, short: at most [`MAX_DETAIL`] characters, so that a huge field
/// does not come back as a huge error.
fn short_detail(e: &dyn std::fmt::Display) -> String {
    let text = e.to_string();
    match text.char_indices().nth(MAX_DETAIL) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

/// The longest detail an error carries, in characters.
pub const MAX_DETAIL: usize = 200;

fn parse_code(code: &str) -> Result<DossierCode, ApiError> {
    code.parse()
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "bad_code", "not a dossier code (AGENCY-YYMMDD-NNNN)"))
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
    jurisdiction: Option<String>,
    procedure_version: Option<String>,
    /// Who applies: kind, pseudonymous key, VNeID (never the identifier).
    applicant: Option<motcua_core::Applicant>,
    /// The documents received (paper, digitised by digest, or reused results).
    documents: Vec<motcua_core::SubmittedDocument>,
    /// The result its approval issued, and whether it was revoked.
    result: Option<motcua_core::IssuedResult>,
    result_revoked: bool,
    /// Fees paid and refunded, in đồng.
    paid: motcua_core::Vnd,
    refunded: motcua_core::Vnd,
    /// The applicant's rating of the handling.
    rating: Option<bool>,
    /// Feedback records with their deadlines and outcomes.
    feedback: Vec<motcua_core::Feedback>,
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
        jurisdiction: d.jurisdiction.as_deref().map(str::to_string),
        procedure_version: d.procedure_version.map(|v| v.to_string()),
        applicant: d.applicant.clone(),
        documents: d.documents.clone(),
        result: d.result.clone(),
        result_revoked: d.result_revoked,
        paid: d.paid,
        refunded: d.refunded,
        rating: d.rating,
        feedback: d.feedback.clone(),
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
    /// The administrative unit whose procedure it is, when not the receiving agency's own.
    #[serde(default)]
    jurisdiction: Option<String>,
    /// Who applies: their CCCD or tax code, keyed at once with the server's identity key and
    /// never kept.
    #[serde(default)]
    applicant: Option<NewApplicant>,
    /// The procedure's case, when its limit depends on the case.
    #[serde(default)]
    case: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewApplicant {
    #[serde(default)]
    kind: Option<motcua_core::ApplicantKind>,
    id: String,
    #[serde(default)]
    vneid: bool,
}

async fn create<S: Store + 'static>(
    State(api): State<Api<S>>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let new: NewDossier = json_body(&body)?;
    let (code, state) = api.receive(actor, new).await?;
    let mut r = with_etag(StatusCode::CREATED, &view(&code, &state));
    if let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/dossiers/{code}")) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(r)
}

/// An online submission forwarded by the national portal. Field names are ours, with the
/// portal's as aliases where known (`MaTTHC`, `ChuHoSo`: docs/sources.md §3.3) and assumed
/// otherwise (`MaThongDiep`, `MaDonVi`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PortalSubmission {
    /// The portal's message id: a message delivered twice creates one dossier.
    #[serde(alias = "MaThongDiep")]
    message_id: String,
    #[serde(alias = "MaTTHC")]
    procedure: ProcedureCode,
    /// The receiving agency.
    #[serde(alias = "MaDonVi")]
    agency: AgencyCode,
    /// The citizen's pseudonymous account (never a CCCD): the dossier's applicant.
    #[serde(alias = "ChuHoSo")]
    applicant: String,
    /// The administrative unit whose procedure it is, when not the agency's own.
    #[serde(default)]
    jurisdiction: Option<String>,
}

/// The longest portal message id accepted.
const MAX_PORTAL_MESSAGE_ID: usize = 128;

/// The longest `Idempotency-Key` accepted.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;

/// `POST /api/v1/portal/submissions`, for a system account (the national portal's connector):
/// the citizen's online submission becomes a `submit` by the system on the citizen's behalf,
/// idempotent by the portal's message id (201 the first time, 200 with the same dossier after).
async fn portal_submission<S: Store + 'static>(
    State(api): State<Api<S>>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    if actor.role != ActorRole::System {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "system_only",
            "only the portal's system account submits here",
        ));
    }
    let sub: PortalSubmission = json_body(&body)?;
    let bad = |code: &str, detail: &str| ApiError::new(StatusCode::BAD_REQUEST, code, detail);
    if sub.message_id.is_empty() || sub.message_id.len() > MAX_PORTAL_MESSAGE_ID {
        return Err(bad("bad_message_id", &format!("message_id: 1 to {MAX_PORTAL_MESSAGE_ID} characters")));
    }
    if sub.applicant.trim().is_empty() || sub.applicant.len() > 64 {
        return Err(bad("bad_applicant", "applicant: the citizen's account id, 1 to 64 characters"));
    }
    // The citizen's account id (which may be their CCCD) is keyed before it goes anywhere.
    let citizen = api.accounts.account_id(&sub.applicant);
    // The portal's keys are scoped to its system account: no other caller can use one up.
    let key = format!("dvcqg:{}", sub.message_id);
    // Seen before: the dossier it created.
    let known = {
        let (store, scoped) = (Arc::clone(&api.store), motcua_engine::scoped_idempotency_key(&actor, &key));
        blocking(move || Ok(store.idempotency(&scoped)?)).await?
    };
    if let Some(rec) = known {
        let state = api.read(rec.dossier.clone()).await?;
        let state =
            state.ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "lost", "recorded but not read"))?;
        return Ok(with_etag(StatusCode::OK, &view(&rec.dossier, &state)));
    }
    let now = (api.clock)();
    // The code is issued by the writer once the submission is admitted.
    let code = DossierCode::new(sub.agency, now.local_date(), 0);
    let command = Command::Submit {
        procedure: sub.procedure,
        channel: Channel::Online,
        jurisdiction: sub.jurisdiction.as_deref().map(Arc::from),
        applicant: None,
    };
    let req = Request::new(code, command, actor, now)
        .with_idempotency_key(key)
        .on_behalf_of(citizen)
        .with_intent(motcua_engine::Intent::Create);
    let code = api.create_dossier(req).await?.dossier;
    let state = api.read(code.clone()).await?;
    let state =
        state.ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "lost", "written but not read"))?;
    let mut r = with_etag(StatusCode::CREATED, &view(&code, &state));
    if let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/dossiers/{code}")) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(r)
}

impl<S: Store + 'static> Api<S> {
    /// Receives (an officer) or submits (a citizen) a new dossier: its code from the store's
    /// durable sequence for the receiving agency and today's date, its receipt instant from the
    /// clock. The dossier as written.
    async fn receive(&self, actor: Actor, new: NewDossier) -> Result<(DossierCode, motcua_core::Dossier), ApiError> {
        // The body's agency, else the officer's own (the engine refuses an officer receiving
        // for another agency).
        let agency = match (new.agency, actor.agency.as_deref()) {
            (Some(a), _) => a,
            (None, Some(a)) => {
                a.parse().map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_agency", &format!("{a:?}: {e}")))?
            }
            (None, None) => {
                return Err(ApiError::new(StatusCode::BAD_REQUEST, "agency_required", "name the receiving agency"))
            }
        };
        let now = (self.clock)();
        // The code is issued by the writer once the request is admitted.
        let code = DossierCode::new(agency, now.local_date(), 0);
        let jurisdiction = new.jurisdiction.as_deref().map(Arc::from);
        let applicant = match &new.applicant {
            None => None,
            Some(a) => {
                let key = self.identity.as_ref().ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "identity_key_missing",
                        "the server has no identity key to keep an applicant's identifier with (serve --identity-key-file)",
                    )
                })?;
                // The identifier is not echoed: its error says only what is wrong.
                let id: motcua_core::Identifier = a.id.parse().map_err(|_| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "bad_identifier",
                        "applicant.id: a CCCD (12 digits) or a tax code (10 digits with its check digit)",
                    )
                })?;
                // A citizen applies as themselves: the identifier must be their account's.
                if actor.role == ActorRole::Citizen && self.accounts.account_id(&a.id) != actor.id {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "not_your_identifier",
                        "applicant.id: a citizen applies under their own account's identifier",
                    ));
                }
                let kind = a.kind.unwrap_or(match id {
                    motcua_core::Identifier::Cccd(_) => motcua_core::ApplicantKind::Citizen,
                    motcua_core::Identifier::Tax(_) => motcua_core::ApplicantKind::Organisation,
                });
                Some(motcua_core::Applicant::new(kind, &id, key, a.vneid))
            }
        };
        let command = if actor.role == ActorRole::Citizen {
            Command::Submit { procedure: new.procedure, channel: new.channel, jurisdiction, applicant }
        } else {
            Command::Receive {
                case: new.case.map(Into::into),
                procedure: new.procedure,
                channel: new.channel,
                jurisdiction,
                applicant,
                documents: Vec::new(),
            }
        };
        let req = Request::new(code, command, actor, now).with_intent(motcua_engine::Intent::Create);
        let code = self.create_dossier(req).await?.dossier;
        let state = self.read(code.clone()).await?;
        let state =
            state.ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "lost", "written but not read"))?;
        Ok((code, state))
    }

    /// The dossier's state, read from the store.
    async fn read(&self, code: DossierCode) -> Result<Option<motcua_core::Dossier>, ApiError> {
        let store = Arc::clone(&self.store);
        blocking(move || Ok(read_dossier(&*store, &code)?)).await
    }

    /// The report of the dossiers received from `from` to `to` (local dates, inclusive), open
    /// ones judged at `as_of`: one pass over the store's projection rows.
    /// `sight` limits it to the dossiers the caller sees (none: the whole province, the
    /// public dashboard's figures).
    async fn report(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        as_of: Timestamp,
        sight: Option<motcua_core::Sight>,
    ) -> Result<Report, ApiError> {
        let (store, procedures, calendar) =
            (Arc::clone(&self.store), Arc::clone(&self.procedures), Arc::clone(&self.calendar));
        let units = self.units.clone();
        let today = (self.clock)().local_date();
        let sight = sight.filter(|s| !s.is_province_wide());
        // Set when this request's future is dropped (the client went, or the timeout fired):
        // the blocking pass then stops building.
        let cancelled = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let _cancel_on_drop = CancelOnDrop(Arc::clone(&cancelled));
        blocking(move || {
            let mut builder = ReportBuilder::with_calendar(&procedures, &calendar);
            if let Some(register) = units.as_deref() {
                builder = builder.with_units(register);
            }
            store.for_each_summary(&mut |s| {
                if cancelled.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                let day = s.received_at.map(Timestamp::local_date);
                if day.is_some_and(|d| from.is_none_or(|f| f <= d) && to.is_none_or(|t| d <= t))
                    && sight.as_ref().is_none_or(|sight| sees_summary(sight, &s, units.as_deref(), today))
                {
                    builder.add(&s);
                }
            })?;
            if cancelled.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(ApiError::new(StatusCode::REQUEST_TIMEOUT, "cancelled", "the request ended first"));
            }
            let report = builder.finish(Some(as_of));
            // The ledger counts every dossier: 1.4 for the whole province only.
            Ok(if from.is_none() && to.is_none() && sight.is_none() {
                report.with_sync(store.sync_tally()?)
            } else {
                report
            })
        })
        .await
    }

    /// The caller's sight today ([`motcua_core::sight`]).
    fn sight(&self, actor: &Actor) -> motcua_core::Sight {
        motcua_core::sight(actor, self.units.as_deref(), (self.clock)().local_date())
    }

    /// An officer's sight for the officers' routes: citizens and system accounts are refused,
    /// and so is an officer who sees nothing (no agency, an unknown or ended one).
    fn officer_sight(&self, actor: &Actor, what: &str) -> Result<motcua_core::Sight, ApiError> {
        if matches!(actor.role, ActorRole::Citizen | ActorRole::System) {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "unauthorized", &format!("{what} are for officers")));
        }
        let sight = self.sight(actor);
        if let Some(why) = sight.refusal() {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "unauthorized", why));
        }
        Ok(sight)
    }

    /// The report of everything, as the dashboard shows it: built at most once a minute, by
    /// one request at a time (the others meanwhile get the previous one, or wait for the first).
    async fn dashboard_report(&self) -> Result<Arc<Report>, ApiError> {
        let fresh = |c: &Option<Built>| c.as_ref().filter(|(built, _)| built.elapsed() < DASHBOARD_TTL).cloned();
        let cached = self.dashboard.lock().ok().and_then(|c| c.clone());
        if let Some((built, report)) = cached {
            if built.elapsed() < DASHBOARD_TTL {
                return Ok(report);
            }
            // Another request is rebuilding it: the previous one will do meanwhile.
            if self.rebuilding.try_lock().is_err() {
                return Ok(report);
            }
        }
        let _rebuilding = self.rebuilding.lock().await;
        // Built while this request waited?
        if let Some((_, report)) = self.dashboard.lock().ok().and_then(|c| fresh(&c)) {
            return Ok(report);
        }
        let report = Arc::new(self.report(None, None, (self.clock)(), None).await?);
        if let Ok(mut c) = self.dashboard.lock() {
            *c = Some((std::time::Instant::now(), Arc::clone(&report)));
        }
        Ok(report)
    }
}

/// The dossier's stream and state, if `actor` may see it ([`motcua_core::Sight`]: a citizen
/// their own, an officer what their agency holds, handled or oversees, the portal's system
/// account the online ones); to anyone else it does not exist (404, as for an unknown code).
async fn visible<S: Store + 'static>(
    api: &Api<S>,
    actor: &Actor,
    code: DossierCode,
) -> Result<(motcua_engine::store::Stream, motcua_core::Dossier), ApiError> {
    let store = Arc::clone(&api.store);
    let shown = code.to_string();
    let agency = code.agency().clone();
    let stream = blocking(move || Ok(store.load(&code)?)).await?;
    let missing = || ApiError::new(StatusCode::NOT_FOUND, "no_such_dossier", &format!("no dossier {shown}"));
    let stream = stream.ok_or_else(missing)?;
    let state = motcua_core::Dossier::replay(stream.events.iter().map(|e| &e.event));
    let today = (api.clock)().local_date();
    let register = api.units.as_deref();
    let sight = motcua_core::sight(actor, register, today);
    let receiving = agency.as_str();
    let seen = motcua_core::Visible {
        receiving,
        jurisdiction: state.jurisdiction.as_deref(),
        online: state.channel == Some(Channel::Online),
        parties: &stream.parties,
    };
    if !sight.sees(seen, state.steps.iter().map(|s| &*s.agency), register, today) {
        return Err(missing());
    }
    Ok((stream, state))
}

async fn dossier<S: Store + 'static>(
    State(api): State<Api<S>>,
    Caller(actor): Caller,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let code = parse_code(&code)?;
    let (_, state) = visible(&api, &actor, code.clone()).await?;
    Ok(with_etag(StatusCode::OK, &view(&code, &state)))
}

async fn history<S: Store + 'static>(
    State(api): State<Api<S>>,
    Caller(actor): Caller,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let code = parse_code(&code)?;
    let (stream, _) = visible(&api, &actor, code.clone()).await?;
    let events: Vec<serde_json::Value> = stream
        .events
        .iter()
        .map(|e| {
            serde_json::json!({
                "seq": e.seq,
                "at": e.event.at().to_string(),
                "actor": e.actor,
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
    // Dossiers are created only under codes the server issues (POST /api/v1/dossiers, the
    // portal's route): here a command acts on an existing dossier, and a `receive` only
    // accepts an online submission already there.
    if matches!(command, Command::Submit { .. }) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_allowed",
            "submit creates a dossier: POST /api/v1/dossiers, which issues its code",
        ));
    }
    let expected = match headers.get(header::IF_MATCH).map(|v| v.to_str().unwrap_or_default().trim_matches('"')) {
        None => None,
        Some(v) => Some(v.parse::<u64>().map_err(|_| {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_if_match", "If-Match holds a version (a number)")
        })?),
    };
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(k) if !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY => Some(k.to_string()),
            _ => {
                let detail = format!("Idempotency-Key: 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters");
                return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_idempotency_key", &detail));
            }
        },
    };
    let now = (api.clock)();
    let mut req = Request::new(code.clone(), command, actor, now).with_intent(motcua_engine::Intent::Existing);
    req.idempotency_key = key;
    api.submit(req, expected).await?;
    let state = api.read(code.clone()).await?;
    let state = state.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no_such_dossier", "gone"))?;
    Ok(with_etag(StatusCode::OK, &view(&code, &state)))
}

/// The query string as `T`: a malformed one is a 400 problem, not axum's plain text.
fn query<T: serde::de::DeserializeOwned>(uri: &axum::http::Uri) -> Result<T, ApiError> {
    Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", "the query string could not be read"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlinesParams {
    view: Option<String>,
    as_of: Option<String>,
    agency: Option<String>,
    hours: Option<u32>,
}

/// The most rows `/api/v1/deadlines` returns.
pub const MAX_DEADLINE_ROWS: usize = 500;

async fn deadlines<S: Store + 'static>(
    State(api): State<Api<S>>,
    Caller(actor): Caller,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let sight = api.officer_sight(&actor, "deadline lists")?;
    let p: DeadlinesParams = query(&uri)?;
    let bad = |kind: &str, d: &str| ApiError::new(StatusCode::BAD_REQUEST, kind, d);
    let as_of = bounded_as_of(&p.as_of, (api.clock)())?;
    let hours = p.hours.unwrap_or(16);
    if hours > 24 * 366 {
        return Err(bad("bad_hours", "hours: at most a year's (8784)"));
    }
    let mut q = match p.view.as_deref().unwrap_or("overdue") {
        "overdue" => DeadlineQuery::overdue(as_of),
        "due_soon" => DeadlineQuery::due_before(as_of, as_of.plus_minutes(i64::from(hours) * 60)),
        _ => return Err(bad("bad_view", "view: overdue or due_soon")),
    };
    if let Some(a) = &p.agency {
        q.agency = Some(a.parse().map_err(|_| bad("bad_agency", "agency: an agency code"))?);
    }
    // The caller's dossiers only: a province-wide officer's page as it is, anyone else's
    // filtered from the store's largest page.
    let province = sight.is_province_wide();
    q.limit = if province { MAX_DEADLINE_ROWS } else { DeadlineQuery::MAX_LIMIT };
    let (store, register, today) = (Arc::clone(&api.store), api.units.clone(), (api.clock)().local_date());
    let rows = blocking(move || {
        let page = store.deadlines(&q)?;
        Ok(page
            .rows
            .into_iter()
            .filter(|s| province || sees_summary(&sight, s, register.as_deref(), today))
            .take(MAX_DEADLINE_ROWS)
            .collect::<Vec<_>>())
    })
    .await?;
    let rows: Vec<serde_json::Value> = rows
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportParams {
    format: Option<String>,
    from: Option<String>,
    to: Option<String>,
    as_of: Option<String>,
}

/// The title of the report's HTML page.
pub const REPORT_TITLE: &str = "motcua — báo cáo chỉ số giải quyết TTHC";

fn parse_date(name: &str, value: &Option<String>) -> Result<Option<NaiveDate>, ApiError> {
    value
        .as_deref()
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_date", &format!("{name}: a day as YYYY-MM-DD"))
            })
        })
        .transpose()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultsParams {
    on: Option<String>,
}

/// An applicant's warehouse: the results held under their pseudonymous key that are in force on
/// a day (default: today), for an officer at the counter (what a new dossier may reuse).
async fn applicant_results<S: Store + 'static>(
    State(api): State<Api<S>>,
    Caller(actor): Caller,
    Path(key): Path<String>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let sight = api.officer_sight(&actor, "an applicant's results")?;
    let key: motcua_core::ApplicantKey = key.parse().map_err(|_| {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_applicant_key", "key: an applicant's key, k1 and 32 hex digits")
    })?;
    let p: ResultsParams = query(&uri)?;
    let on = match parse_date("on", &p.on)? {
        Some(d) => d,
        None => (api.clock)().local_date(),
    };
    let store = Arc::clone(&api.store);
    let held = key.clone();
    let (register, today) = (api.units.clone(), (api.clock)().local_date());
    // Only the results issued by dossiers the officer sees (the warehouse is not a directory of
    // everyone's papers); at most a thousand looked at.
    let rows = blocking(move || {
        let mut rows = store.results_of(&held, on)?;
        rows.truncate(1000);
        let mut seen = Vec::with_capacity(rows.len());
        for r in rows {
            let Some(by) = &r.issued_by else { continue };
            if sight.is_province_wide()
                || store.summary(by)?.is_some_and(|s| sees_summary(&sight, &s, register.as_deref(), today))
            {
                seen.push(r);
            }
        }
        Ok(seen)
    })
    .await?;
    let results: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "number": r.number,
                "kind": r.kind,
                "valid_until": r.valid_until.map(|d| d.to_string()),
                "issued_by": r.issued_by.as_ref().map(|c| c.to_string()),
            })
        })
        .collect();
    Ok(axum::Json(serde_json::json!({ "applicant": key.as_str(), "on": on.to_string(), "results": results }))
        .into_response())
}

async fn report<S: Store + 'static>(
    State(api): State<Api<S>>,
    Caller(actor): Caller,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let sight = api.officer_sight(&actor, "reports")?;
    let p: ReportParams = query(&uri)?;
    let (from, to) = (parse_date("from", &p.from)?, parse_date("to", &p.to)?);
    let bad = |d: &str| ApiError::new(StatusCode::BAD_REQUEST, "bad_date", d);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(bad("from is after to"));
        }
        if (t - f).num_days() > MAX_REPORT_SPAN_DAYS {
            return Err(bad(&format!("from to to: at most {MAX_REPORT_SPAN_DAYS} days")));
        }
    }
    let now = (api.clock)();
    let as_of = bounded_as_of(&p.as_of, now)?;
    for d in [from, to].into_iter().flatten() {
        if d.year() < 2000 || d > as_of.local_date() + chrono::Days::new(1) {
            return Err(bad("from and to: days from 2000-01-01 to as_of"));
        }
    }
    let format = p.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv" | "html") {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_format", "format: json, csv or html"));
    }
    let r = api.report(from, to, as_of, Some(sight)).await?;
    Ok(match format {
        "csv" => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], r.to_csv()).into_response(),
        "html" => axum::response::Html(r.to_html(REPORT_TITLE)).into_response(),
        _ => axum::Json(&r).into_response(),
    })
}

/// What anyone may learn of a dossier from its code: no personal data.
#[derive(Serialize)]
struct Tracking {
    code: String,
    procedure: Option<String>,
    procedure_name: Option<String>,
    status: Option<&'static str>,
    national_status: Option<u8>,
    status_name: Option<&'static str>,
    received_at: Option<String>,
    due: Option<String>,
    finished_at: Option<String>,
}

impl<S: Store + 'static> Api<S> {
    /// The public tracking view of `code`, `None` when there is no such dossier.
    async fn tracking(&self, code: DossierCode) -> Result<Option<Tracking>, ApiError> {
        let Some(d) = self.read(code.clone()).await? else { return Ok(None) };
        let t = |x: Option<Timestamp>| x.map(|t| t.to_string());
        Ok(Some(Tracking {
            code: code.to_string(),
            procedure: d.procedure.as_ref().map(|p| p.to_string()),
            procedure_name: d.procedure.as_ref().and_then(|p| self.procedures.get(p)).map(|(n, _)| n.clone()),
            status: d.status.map(|s| s.code()),
            national_status: d.status.map(|s| s.national().code()),
            status_name: d.status.map(|s| s.national().name()),
            received_at: t(d.received_at),
            due: t(d.due),
            finished_at: t(d.finished_at),
        }))
    }
}

async fn track<S: Store + 'static>(State(api): State<Api<S>>, Path(code): Path<String>) -> Result<Response, ApiError> {
    let code = parse_code(&code)?;
    let shown = code.to_string();
    match api.tracking(code).await? {
        Some(t) => Ok(axum::Json(t).into_response()),
        None => Err(ApiError::new(StatusCode::NOT_FOUND, "no_such_dossier", &format!("no dossier {shown}"))),
    }
}

impl<S> Api<S> {
    /// Who a request comes from, if anyone: its bearer token's actor, else its page session's.
    fn who(&self, headers: &HeaderMap) -> Option<Actor> {
        match auth::bearer(headers) {
            Some(t) => auth::verify(&self.secret, &self.accounts, t).ok(),
            None => auth::cookie(headers).and_then(|id| self.sessions.get(id)).map(|s| s.actor),
        }
    }
}

/// Requests per client address to the routes anyone may call without signing in: a token
/// bucket per address (refilled at `PER_SECOND`, holding at most `BURST`), for the tracking
/// lookup and the login form. Addresses are forgotten when the table is full.
#[derive(Default)]
struct RateLimiter {
    buckets: std::sync::Mutex<HashMap<(std::net::IpAddr, bool), (f64, std::time::Instant)>>,
}

/// The anonymous routes' limits: (per second, burst) for tracking, and for signing in.
const TRACK_RATE: (f64, f64) = (5.0, 20.0);
const LOGIN_RATE: (f64, f64) = (0.5, 10.0);

/// The most client addresses remembered at once.
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    /// Whether a request from `ip` to a `login` route (or a tracking one) may go now.
    fn allow(&self, ip: std::net::IpAddr, login: bool) -> bool {
        let (rate, burst) = if login { LOGIN_RATE } else { TRACK_RATE };
        let now = std::time::Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else { return true };
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(&(ip, login)) {
            buckets.retain(|_, (_, at)| now.duration_since(*at).as_secs_f64() < 60.0);
            if buckets.len() >= MAX_BUCKETS {
                buckets.clear();
            }
        }
        let (tokens, at) = buckets.entry((ip, login)).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// `429` problem+json (with `Retry-After`) for a client address past its limit on the
/// anonymous routes (`/track`, `/api/v1/track/…`, `/login`); other routes need a token.
async fn rate_limit<S: Send + Sync + 'static>(
    State(api): State<Api<S>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path();
    let login = path == "/login";
    if login || path == "/track" || path.starts_with("/api/v1/track/") {
        if let Some(peer) = serve::peer(&req) {
            if !api.limiter.allow(peer.ip(), login) {
                let mut r = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "too many requests; try again shortly",
                )
                .into_response();
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
                return r;
            }
        }
    }
    next.run(req).await
}

/// The Content-Security-Policy of every response: nothing from elsewhere, no script but the
/// appointment slip's print button (by its hash), inline styles (the pages' and charts'), no
/// framing, forms posting here only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
     script-src 'unsafe-hashes' 'sha256-MguIPR6qNR8D3B+eAlK+bIRTZe8t3wkOY4B/56Me9FU='; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// Every response leaves with the security headers, and every error as problem+json: the
/// framework's own refusals (a body too large, a method a route does not take, a timeout, a
/// path that does not decode) come without a body or as plain text, and are given a problem
/// of their status with a short detail that echoes nothing of the request. The pages' own
/// error pages (HTML, in Vietnamese) stay as they are. Personal responses are never cached:
/// `Cache-Control: no-store` on everything but the OpenAPI document.
async fn harden(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let cacheable = req.uri().path() == "/api/v1/openapi.json";
    let head: usize = req.headers().iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    let mut response = if head > MAX_HEADER_BYTES {
        ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            "the request's headers are too large",
        )
        .into_response()
    } else {
        next.run(req).await
    };
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        let ctype = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !ctype.starts_with("application/problem+json") && !ctype.starts_with("text/html") {
            let (kind, detail) = match status {
                StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "the request body is larger than 1 MiB"),
                StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this route does not take that method"),
                StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took longer than 30 s"),
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
                    ("headers_too_large", "the request's headers are too large")
                }
                StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "send application/json"),
                StatusCode::NOT_FOUND => ("not_found", "no such route"),
                s if s.is_client_error() => ("bad_request", "the request could not be read (its path, query or body)"),
                _ => ("internal", "the server failed; nothing was written unless the dossier says so"),
            };
            let kept: Vec<_> = [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE]
                .into_iter()
                .filter_map(|h| response.headers().get(&h).cloned().map(|v| (h, v)))
                .collect();
            response = ApiError::new(status, kind, detail).into_response();
            for (h, v) in kept {
                response.headers_mut().insert(h, v);
            }
        }
    }
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    if !cacheable {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// One line per request to the `motcua_http::access` target: method, path, status, time and
/// the verified actor id (pseudonymous; never a body, so never a CCCD or tax code).
async fn access_log<S: Send + Sync + 'static>(
    State(api): State<Api<S>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    let actor = api.who(req.headers());
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let response = next.run(req).await;
    tracing::info!(
        target: "motcua_http::access",
        method = %method,
        path,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        actor = actor.as_ref().map_or("-", |a| &*a.id.0),
    );
    response
}
