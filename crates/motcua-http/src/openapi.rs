//! The OpenAPI 3 document, declared beside stubs that carry each route's annotations.

/// The API's OpenAPI 3 document, generated from the handlers' annotations below.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi as _;
    #[derive(utoipa::OpenApi)]
    #[openapi(
        info(title = "motcua", description = "Vietnamese one-stop-shop dossiers: receive, move, track, deadlines."),
        paths(create_doc, dossier_doc, history_doc, command_doc, portal_doc, deadlines_doc, applicant_results_doc, report_doc, track_doc, healthz_doc),
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
    /// The administrative unit whose procedure it is, when not the receiving agency's own
    /// (with a register of units: `motcua serve --units`).
    jurisdiction: Option<String>,
    /// Who applies: `{"kind"?: "citizen"|"organisation", "id": CCCD or tax code, "vneid"?: bool}`,
    /// keyed at once with the server's identity key and never kept.
    applicant: Option<String>,
    /// The procedure's case (`truong-hop-2`) when its limit depends on the case (an officer's
    /// receipt; refused with `unknown_case` or `case_required`).
    case: Option<String>,
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
    /// The administrative unit the dossier belongs to, when known.
    jurisdiction: Option<String>,
    /// The procedure version it follows (its `effective_from`), for a dated procedure.
    procedure_version: Option<String>,
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

#[utoipa::path(post, path = "/api/v1/portal/submissions",
    request_body(content = Object, description = "An online submission from the national portal: {\"message_id\" (MaThongDiep), \"procedure\" (MaTTHC), \"agency\" (MaDonVi), \"applicant\" (ChuHoSo, a pseudonymous account), \"jurisdiction\"?}; a system account only; the same message_id gives the same dossier"),
    security(("bearer" = [])),
    responses((status = 201, body = DossierDoc), (status = 200, body = DossierDoc, description = "Seen before"),
        (status = 400, body = ProblemDoc), (status = 403, body = ProblemDoc)))]
#[allow(dead_code)]
fn portal_doc() {}

#[utoipa::path(get, path = "/api/v1/deadlines", params(
        ("view" = Option<String>, Query, description = "overdue (default) or due_soon"),
        ("as_of" = Option<String>, Query, description = "The instant (default: now)"),
        ("agency" = Option<String>, Query, description = "Receiving agency"),
        ("hours" = Option<u32>, Query, description = "due_soon's window in hours (default 16)")),
    security(("bearer" = [])), responses((status = 200, description = "Open dossiers by due time"),
        (status = 400, body = ProblemDoc)))]
#[allow(dead_code)]
fn deadlines_doc() {}

#[utoipa::path(get, path = "/api/v1/applicants/{key}/results", params(("key" = String, Path, description = "The applicant's pseudonymous key (k1…)"),
        ("on" = Option<String>, Query, description = "The day, YYYY-MM-DD (default: today)")),
    security(("bearer" = [])), responses((status = 200, description = "The applicant's results in force that day: what a new dossier may reuse"),
        (status = 400, body = ProblemDoc), (status = 403, body = ProblemDoc)))]
#[allow(dead_code)]
fn applicant_results_doc() {}

#[utoipa::path(get, path = "/api/v1/report", params(
        ("format" = Option<String>, Query, description = "json (default), csv or html"),
        ("from" = Option<String>, Query, description = "First receipt date, YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "Last receipt date, YYYY-MM-DD"),
        ("as_of" = Option<String>, Query, description = "The instant open dossiers are judged at (default: now)")),
    security(("bearer" = [])), responses((status = 200, description = "The indicators of the dossiers received in the range"),
        (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc)))]
#[allow(dead_code)]
fn report_doc() {}

#[utoipa::path(get, path = "/api/v1/track/{code}", params(("code" = String, Path, description = "Dossier code")),
    responses((status = 200, description = "Status, procedure and due time; no personal data, no token needed"),
        (status = 400, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
#[allow(dead_code)]
fn track_doc() {}

#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "ok")))]
#[allow(dead_code)]
fn healthz_doc() {}
