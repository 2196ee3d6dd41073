//! The reference portal's pages, rendered on the server in Vietnamese: plain HTML forms and
//! inline SVG charts, no scripts to build and nothing from a CDN.
//!
//! - `/`: the dashboard (open to all: figures, no personal data): the report's figures and
//!   charts, the backlog by receiving agency, what falls due within two working days and what is
//!   overdue.
//! - `/counter`: a clerk receives a dossier and prints the appointment slip (giấy tiếp nhận hồ
//!   sơ và hẹn trả kết quả, Decree 61/2018/ND-CP, Art. 19: it names the dossier's code, the
//!   procedure, when it was received, when the result is due and who received it).
//! - `/track`: anyone looks a dossier up by its code: status and due time, no personal data.
//! - `/login` keeps a token (from `motcua token`) in an `HttpOnly`, `SameSite=Strict` cookie,
//!   so another site's form cannot post with it; `/logout` drops it.

use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use motcua_calendar::Timestamp;
use motcua_core::{Channel, DossierCode, ProcedureCode};
use motcua_engine::{Actor, ActorRole, BacklogBy, DeadlineQuery, Store};
use motcua_report::escape_html as esc;
use serde::Deserialize;

use crate::auth::{self, Session, COOKIE};
use crate::{blocking, Api, ApiError, NewDossier};

pub(crate) fn routes<S: Store + 'static>() -> Router<Api<S>> {
    Router::new()
        .route("/", get(dashboard::<S>))
        .route("/counter", get(counter_form::<S>).post(counter_receive::<S>))
        .route("/queue", get(queue::<S>))
        .route("/track", get(track::<S>))
        .route("/login", get(login_form).post(login::<S>))
        .route("/logout", post(logout::<S>))
}

/// An instant as a Vietnamese reader writes it (`09:00 ngày 06/03/2025`), inside a `<time>`
/// whose `datetime` is the API's form (`2025-03-06T09:00+07:00`).
fn vi_time(t: Timestamp) -> String {
    format!(r#"<time datetime="{t}">{}</time>"#, t.to_local_naive().format("%H:%M ngày %d/%m/%Y"))
}

fn vi_opt(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "—".to_string(), vi_time)
}

fn role_name(role: ActorRole) -> &'static str {
    match role {
        ActorRole::Citizen => "Công dân",
        ActorRole::Clerk => "Cán bộ một cửa",
        ActorRole::Specialist => "Chuyên viên",
        ActorRole::Leader => "Lãnh đạo",
        ActorRole::System => "Hệ thống",
    }
}

fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Direct => "Trực tiếp",
        Channel::Online => "Trực tuyến",
        Channel::Postal => "Qua dịch vụ bưu chính công ích",
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:900px;margin:0 auto;padding:0 16px 32px;color:#222}\
nav{display:flex;gap:16px;align-items:center;border-bottom:2px solid #b22;padding:10px 0;margin-bottom:16px}\
nav a{color:#b22;text-decoration:none;font-weight:600}nav .who{margin-left:auto;font-size:13px;color:#555}\
h1{font-size:22px}h2{font-size:16px;margin-top:26px}table{border-collapse:collapse;font-size:14px;margin:8px 0}\
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}svg{width:100%;height:auto}\
.kpi{display:flex;gap:12px;flex-wrap:wrap}.kpi div{border:1px solid #ddd;padding:8px 12px;border-radius:6px}.kpi b{display:block;font-size:20px}\
form.box{border:1px solid #ddd;border-radius:6px;padding:12px 16px;max-width:620px}label{display:block;margin:10px 0 4px;font-weight:600}\
select,input[type=text],textarea{width:100%;padding:6px;font-size:15px;box-sizing:border-box}button{margin-top:14px;padding:8px 18px;font-size:15px}\
.error{background:#fdecea;border:1px solid #e0a0a0;padding:8px 12px;border-radius:6px}.muted{color:#666;font-size:13px}\
.slip{border:1px solid #333;padding:20px 28px;max-width:640px}.slip .head{text-align:center}.slip td{border:none;padding:4px 8px 4px 0}\
@media print{nav,.noprint{display:none}.slip{border:none}}";

/// A form's hidden CSRF field for the signed-in session.
fn csrf_field(s: &Session) -> String {
    format!(r#"<input type="hidden" name="csrf" value="{}">"#, esc(&s.csrf))
}

/// A whole page: the navigation (who is signed in), the title and the body.
fn page(title: &str, who: Option<&Session>, body: &str) -> Html<String> {
    let who = match who {
        Some(s) => format!(
            r#"<span class="who">{} · {}{} <form method="post" action="/logout" style="display:inline">{}<button style="margin:0;padding:2px 8px;font-size:12px">Đăng xuất</button></form></span>"#,
            esc(&s.actor.id.0),
            role_name(s.actor.role),
            s.actor.agency.as_deref().map(|g| format!(" · {}", esc(g))).unwrap_or_default(),
            csrf_field(s),
        ),
        None => r#"<span class="who"><a href="/login">Đăng nhập</a></span>"#.to_string(),
    };
    Html(format!(
        r#"<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{t} — motcua</title><style>{STYLE}</style></head><body><nav><a href="/">Bảng điều khiển</a><a href="/queue">Việc của tôi</a><a href="/counter">Tiếp nhận hồ sơ</a><a href="/track">Tra cứu hồ sơ</a>{who}</nav><h1>{t}</h1>{body}</body></html>"#,
        t = esc(title)
    ))
}

/// An error as a page, with the API error's status.
struct PageError {
    status: StatusCode,
    who: Option<Session>,
    message: String,
}

impl PageError {
    fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError { status, who: None, message: message.into() }
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> PageError {
        PageError::new(e.status, in_vietnamese(&e))
    }
}

/// What an API error says on a page, in Vietnamese: the pages speak the officer's language;
/// the JSON API keeps its English `detail` and stable `code`. An error without a sentence of
/// its own is told generically, with its code for the help desk.
fn in_vietnamese(e: &ApiError) -> String {
    let said = match e.kind.as_str() {
        "unauthorized" => "Bạn không có quyền thực hiện thao tác này: hồ sơ thuộc cơ quan khác, hoặc vai trò của bạn không làm bước này.",
        "not_in_force" => "Thủ tục không có phiên bản còn hiệu lực vào ngày này.",
        "unknown_procedure" => "Thủ tục không có trong danh mục của hệ thống.",
        "unknown_unit" => "Đơn vị hành chính không có trong danh mục đơn vị.",
        "no_unit_for_step" => "Không có cơ quan nào đang đảm nhận bước này cho đơn vị hành chính của hồ sơ; báo quản trị hệ thống cập nhật danh mục cơ quan.",
        "unknown_case" => "Trường hợp đã chọn không có trong thủ tục này.",
        "case_required" => "Thời hạn của thủ tục này tùy theo trường hợp: cần chọn trường hợp của hồ sơ.",
        "not_receiving" => "Cơ quan của bạn không tiếp nhận hồ sơ của thủ tục này.",
        "not_listed_outside_area" => "Thủ tục này không có trong danh mục được tiếp nhận không phụ thuộc địa giới hành chính: hướng dẫn người nộp đến bộ phận một cửa của đơn vị có thẩm quyền (Nghị định 309/2026/NĐ-CP).",
        "awaiting_transfer" => "Hồ sơ đang chờ cơ quan có thẩm quyền tiếp nhận hồ sơ chuyển đến.",
        "unpriced_fee" => "Mức thu khoản phí, lệ phí này do Hội đồng nhân dân tỉnh quy định và chưa có trong dữ liệu của tỉnh: báo quản trị hệ thống.",
        "not_allowed" => "Thao tác này không thực hiện được ở trạng thái hiện tại của hồ sơ.",
        "applicant_required" => "Cần thông tin người nộp hồ sơ.",
        "reason_required" => "Cần nêu lý do.",
        "supplement_window_closed" => "Đã quá thời hạn 03 ngày làm việc để yêu cầu bổ sung hồ sơ.",
        "calendar" => "Ngày này nằm ngoài lịch làm việc mà hệ thống đang dùng; báo quản trị hệ thống.",
        "code_date" | "code_taken" => "Mã hồ sơ không hợp lệ cho ngày tiếp nhận; vui lòng thử lại.",
        "store" | "unavailable" => "Hệ thống lưu trữ đang gặp sự cố; vui lòng thử lại sau ít phút.",
        "not_found" | "no_such_dossier" => "Không tìm thấy hồ sơ.",
        _ => "",
    };
    if said.is_empty() {
        format!("Không thực hiện được yêu cầu (mã lỗi: {}).", e.kind)
    } else {
        said.to_string()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = match self.status {
            StatusCode::NOT_FOUND => "Không tìm thấy",
            StatusCode::FORBIDDEN => "Không có quyền",
            StatusCode::UNAUTHORIZED => "Chưa đăng nhập",
            s if s.is_client_error() => "Yêu cầu không hợp lệ",
            _ => "Lỗi máy chủ",
        };
        let body = format!(r#"<p class="error">{}</p>"#, esc(&self.message));
        (self.status, page(title, self.who.as_ref(), &body)).into_response()
    }
}

/// The signed-in session, if any (an unknown, ended or expired one counts as none).
fn signed_in<S>(api: &Api<S>, headers: &HeaderMap) -> Option<Session> {
    auth::cookie(headers).and_then(|id| api.sessions.get(id))
}

async fn dashboard<S: Store + 'static>(
    State(api): State<Api<S>>,
    headers: HeaderMap,
) -> Result<Html<String>, PageError> {
    let who = signed_in(&api, &headers);
    let now = (api.clock)();
    let report = api.dashboard_report().await?;
    // Due soon: within the next two working days (16 working hours) of the served calendar.
    let until = api.calendar.add_working_minutes(now, 16 * 60).unwrap_or_else(|_| now.plus_minutes(48 * 60));
    // The lists of dossiers are an officer's, of the dossiers their agency sees; the public
    // sees the province's figures only.
    let sight = who.as_ref().map(|s| api.sight(&s.actor)).filter(|s| matches!(s, motcua_core::Sight::Agency { .. }));
    let (store, register, today) = (std::sync::Arc::clone(&api.store), api.units.clone(), now.local_date());
    let listed = sight.clone();
    let (backlog, soon, overdue) = blocking(move || {
        let Some(sight) = listed else { return Ok((Vec::new(), Vec::new(), Vec::new())) };
        let mut backlog = store.backlog(BacklogBy::Agency, now)?;
        if let motcua_core::Sight::Agency { agency, province: false, .. } = &sight {
            backlog.retain(|row| *row.key == **agency);
        }
        let mut lists = Vec::new();
        for mut q in [DeadlineQuery::due_before(now, until), DeadlineQuery::overdue(now)] {
            q.limit = if sight.is_province_wide() { 20 } else { DeadlineQuery::MAX_LIMIT };
            let rows: Vec<_> = store
                .deadlines(&q)?
                .rows
                .into_iter()
                .filter(|s| crate::sees_summary(&sight, s, register.as_deref(), today))
                .take(20)
                .collect();
            lists.push(rows);
        }
        let overdue = lists.pop().unwrap_or_default();
        let soon = lists.pop().unwrap_or_default();
        Ok((backlog, soon, overdue))
    })
    .await?;
    let t = &report.totals;
    let mut body = format!(
        r#"<p class="muted">Số liệu lúc {} (chỉ số và biểu đồ cập nhật mỗi phút; danh sách theo thời gian thực).</p>
<div class="kpi" id="kpi"><div>Tiếp nhận<b>{}</b></div><div>Trực tuyến<b>{}</b></div><div>Đã giải quyết<b>{}</b></div><div>Trước và đúng hạn<b>{} ({} %)</b></div><div>Quá hạn<b>{}</b></div><div>Đang giải quyết<b>{}</b></div><div>Đang giải quyết, đã quá hạn<b>{}</b></div></div>"#,
        vi_time(now),
        vi_count(t.received),
        vi_count(t.online),
        vi_count(t.resolved),
        vi_count(t.early + t.on_time),
        vi_pct(t.early_or_on_time_pct),
        vi_count(t.late),
        vi_count(t.open),
        vi_count(t.open_overdue),
    );
    if sight.is_none() {
        body.push_str(r#"<p class="muted" id="sign-in-for-lists">Cán bộ <a href="/login">đăng nhập</a> để xem danh sách hồ sơ của đơn vị mình.</p>"#);
    }
    body.push_str(r#"<h2>Hồ sơ đang giải quyết theo đơn vị tiếp nhận</h2><table id="backlog"><tr><th>Đơn vị</th><th>Đang giải quyết</th><th>Đã quá hạn</th><th>Đang dừng tính thời gian</th></tr>"#);
    for row in &backlog {
        // The agency by its name where the register has it, its code beside it.
        let name = api.units.as_deref().and_then(|r| r.agency(&row.key)).map(|a| a.name.as_str());
        let agency = match name {
            Some(name) => format!("{} <span class=\"muted\">{}</span>", esc(name), esc(&row.key)),
            None => esc(&row.key).to_string(),
        };
        body.push_str(&format!(
            "<tr><td>{agency}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            vi_count(row.open),
            vi_count(row.overdue),
            vi_count(row.clock_stopped)
        ));
    }
    body.push_str("</table>");
    for (id, heading, rows) in [
        ("due-soon", "Đến hạn trong 2 ngày làm việc tới", &soon),
        ("overdue", "Đã quá hạn (quá hạn lâu nhất trước)", &overdue),
    ] {
        body.push_str(&dossier_table(&api, id, heading, rows, "", 0, |_| String::new()));
    }
    body.push_str(&report.charts_html());
    body.push_str(r#"<p class="muted">Báo cáo đầy đủ: <code>GET /api/v1/report?format=html</code> (cán bộ).</p>"#);
    Ok(page("Bảng điều khiển giải quyết thủ tục hành chính", who.as_ref(), &body))
}

/// The officer's queue (`/queue`): the open dossiers with a running clock whose current step is
/// at the officer's agency ("to process") and those the agency received ("received here"),
/// overdue first then by due time, each with its working hours left and an overdue or
/// due-within-one-working-day flag; at most 50 a list (no paging yet). Only the officer's own
/// agency's dossiers are queried.
async fn queue<S: Store + 'static>(State(api): State<Api<S>>, headers: HeaderMap) -> Response {
    let forbidden = |who: Session| {
        PageError {
            status: StatusCode::FORBIDDEN,
            who: Some(who),
            message: "Trang này dành cho cán bộ của một đơn vị.".into(),
        }
        .into_response()
    };
    let session = match clerk(&api, &headers) {
        Ok(s) => s,
        Err(NotClerk::Login) => return Redirect::to("/login?next=/queue").into_response(),
        Err(NotClerk::Forbidden(s)) => return forbidden(s),
    };
    let Some(agency) = session.actor.agency.clone() else { return forbidden(session) };
    let now = (api.clock)();
    let store = std::sync::Arc::clone(&api.store);
    let code: Option<motcua_core::AgencyCode> = agency.parse().ok();
    let step_agency = agency.to_string();
    let listed = blocking(move || {
        // Overdue first (longest overdue first), then the rest by due time, as far as ten years.
        let far = now.plus_minutes(10 * 366 * 24 * 60);
        let mut lists = Vec::new();
        for by_step in [true, false] {
            let mut rows = Vec::new();
            for mut q in [DeadlineQuery::overdue(now), DeadlineQuery::due_before(now, far)] {
                q.limit = QUEUE_PAGE;
                if by_step {
                    q.step_agency = Some(step_agency.clone());
                } else {
                    q.agency = code.clone();
                }
                if !by_step && q.agency.is_none() {
                    continue;
                }
                rows.extend(store.deadlines(&q)?.rows);
                if rows.len() >= QUEUE_PAGE {
                    break;
                }
            }
            rows.truncate(QUEUE_PAGE);
            lists.push(rows);
        }
        Ok(lists)
    })
    .await;
    let lists = match listed {
        Ok(l) => l,
        Err(e) => return PageError::from(e).into_response(),
    };
    let mut body = format!(
        r#"<p class="muted">Hồ sơ đang giải quyết của {} lúc {}, quá hạn trước, rồi theo hạn trả; tối đa {QUEUE_PAGE} hồ sơ mỗi danh sách.</p>"#,
        esc(&agency),
        vi_time(now)
    );
    for ((id, heading), rows) in
        [("to-process", "Cần xử lý tại đơn vị (bước hiện tại)"), ("received-here", "Do đơn vị tiếp nhận")]
            .into_iter()
            .zip(&lists)
    {
        let heads = "<th>Còn lại (giờ làm việc)</th><th>Cảnh báo</th>";
        body.push_str(&dossier_table(&api, id, heading, rows, heads, 2, |s| {
            let left = s.due.and_then(|d| {
                if d <= now {
                    api.calendar.working_minutes_between(d, now).ok().map(|m| -m)
                } else {
                    api.calendar.working_minutes_between(now, d).ok()
                }
            });
            let (left_text, flag) = match left {
                Some(m) if m < 0 => (format!("−{}", vi_hours(-m)), r#"<b class="flag overdue">Quá hạn</b>"#),
                Some(m) if m <= 8 * 60 => (vi_hours(m), r#"<b class="flag soon">Sắp đến hạn</b>"#),
                Some(m) => (vi_hours(m), ""),
                None => ("—".to_string(), ""),
            };
            format!("<td>{left_text}</td><td>{flag}</td>")
        }));
    }
    page("Việc của tôi", Some(&session), &body).into_response()
}

/// A list of dossiers as a table: code (linked to tracking), procedure, national status and due
/// time, then `extra_cols` cells of `extra` under the `extra_heads` headings; "Không có hồ sơ."
/// when empty. The dashboard's and the queue's lists.
fn dossier_table<S>(
    api: &Api<S>,
    id: &str,
    heading: &str,
    rows: &[motcua_engine::DossierSummary],
    extra_heads: &str,
    extra_cols: usize,
    extra: impl Fn(&motcua_engine::DossierSummary) -> String,
) -> String {
    let mut t = format!(
        r#"<h2>{heading}</h2><table id="{id}"><tr><th>Mã hồ sơ</th><th>Thủ tục</th><th>Trạng thái</th><th>Hạn trả</th>{extra_heads}</tr>"#
    );
    for s in rows {
        let procedure = s.procedure.as_ref().map(|p| api.procedure_label(p)).unwrap_or_default();
        let status = s.national.map_or("—", national_name);
        t.push_str(&format!(
            r#"<tr><td><a href="/track?code={code}">{code}</a></td><td>{}</td><td>{}</td><td>{}</td>{}</tr>"#,
            esc(&procedure),
            status,
            vi_opt(s.due),
            extra(s),
            code = esc(&s.dossier.to_string()),
        ));
    }
    if rows.is_empty() {
        t.push_str(&format!(r#"<tr><td colspan="{}" class="muted">Không có hồ sơ.</td></tr>"#, 4 + extra_cols));
    }
    t.push_str("</table>");
    t
}

/// The most rows a queue list shows.
const QUEUE_PAGE: usize = 50;

/// Working minutes as hours with a decimal comma (12,5).
fn vi_hours(minutes: i64) -> String {
    let h = minutes as f64 / 60.0;
    if minutes % 60 == 0 {
        format!("{}", minutes / 60)
    } else {
        format!("{h:.1}").replace('.', ",")
    }
}

/// A count as Vietnamese write it: thousands apart by dots (328.508).
fn vi_count(n: impl Into<u64>) -> String {
    let digits = n.into().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// A percentage to two decimals with a decimal comma (99,35).
fn vi_pct(p: f64) -> String {
    format!("{p:.2}").replace('.', ",")
}

/// The national portal's Vietnamese name of status code `n`.
fn national_name(n: u8) -> &'static str {
    motcua_core::NationalStatus::ALL.into_iter().find(|s| s.code() == n).map_or("—", |s| s.name())
}

impl<S> Api<S> {
    /// `code — name` of a procedure (the code alone when the catalog does not name it).
    fn procedure_label(&self, code: &ProcedureCode) -> String {
        match self.procedures.get(code) {
            Some((name, _)) => format!("{code} — {name}"),
            None => code.to_string(),
        }
    }
}

/// Why the counter is not shown: nobody signed in (go to the login page), or someone who is
/// not an agency's officer.
enum NotClerk {
    Login,
    Forbidden(Session),
}

impl IntoResponse for NotClerk {
    fn into_response(self) -> Response {
        match self {
            NotClerk::Login => Redirect::to("/login?next=/counter").into_response(),
            NotClerk::Forbidden(a) => PageError {
                status: StatusCode::FORBIDDEN,
                who: Some(a),
                message: "Trang tiếp nhận dành cho cán bộ của một đơn vị.".into(),
            }
            .into_response(),
        }
    }
}

/// The signed-in officer who may receive dossiers.
fn clerk<S>(api: &Api<S>, headers: &HeaderMap) -> Result<Session, NotClerk> {
    match signed_in(api, headers) {
        Some(s) if s.actor.role != ActorRole::Citizen && s.actor.agency.is_some() => Ok(s),
        Some(s) => Err(NotClerk::Forbidden(s)),
        None => Err(NotClerk::Login),
    }
}

fn counter_body<S>(api: &Api<S>, session: &Session, error: Option<&str>) -> String {
    let mut procedures: Vec<_> = api.procedures.iter().collect();
    procedures.sort_by(|a, b| a.0.cmp(b.0));
    let options: String = procedures
        .iter()
        .map(|(code, (name, sector))| {
            let sector = if sector.trim().is_empty() { String::new() } else { format!(" ({})", esc(sector)) };
            format!(r#"<option value="{c}">{c} — {}{sector}</option>"#, esc(name), c = esc(&code.to_string()))
        })
        .collect();
    let error = error.map(|e| format!(r#"<p class="error" id="error">{}</p>"#, esc(e))).unwrap_or_default();
    // With a register: the administrative unit whose procedure it is (a centre receiving for
    // any commune of the province, Decree 118/2025/NĐ-CP), today's units only.
    let today = (api.clock)().local_date();
    let units = match &api.units {
        Some(register) => {
            let options: String = register
                .units()
                .iter()
                .filter(|u| u.valid_from.is_none_or(|f| f <= today) && u.valid_to.is_none_or(|t| today <= t))
                .map(|u| format!(r#"<option value="{c}">{} ({c})</option>"#, esc(&u.name), c = esc(&u.code)))
                .collect();
            format!(
                r#"<label for="jurisdiction">Đơn vị hành chính của hồ sơ</label><select name="jurisdiction" id="jurisdiction"><option value="">Đơn vị của nơi tiếp nhận</option>{options}</select>"#
            )
        }
        None => String::new(),
    };
    // Procedures whose limit depends on the case: the case, named at receipt.
    let cases = if api.cases.is_empty() {
        String::new()
    } else {
        let options: String = api
            .cases
            .iter()
            .map(|(code, id, name)| {
                format!(r#"<option value="{i}">{c} — {}</option>"#, esc(name), i = esc(id), c = esc(&code.to_string()))
            })
            .collect();
        format!(
            r#"<label for="case">Trường hợp (thủ tục có thời hạn theo trường hợp)</label><select name="case" id="case"><option value="">Không áp dụng</option>{options}</select>"#
        )
    };
    format!(
        r#"{error}<form class="box" method="post" action="/counter" id="receive">{csrf}
<label for="procedure">Thủ tục hành chính</label><select name="procedure" id="procedure" required>{options}</select>{units}{cases}
<label>Hình thức nộp</label>
<label style="font-weight:normal"><input type="radio" name="channel" value="direct" checked> Trực tiếp tại bộ phận một cửa</label>
<label style="font-weight:normal"><input type="radio" name="channel" value="postal"> Qua dịch vụ bưu chính công ích</label>
<button type="submit" id="submit">Tiếp nhận và in giấy hẹn</button>
<p class="muted">Thời điểm tiếp nhận là giờ của máy chủ; mã hồ sơ lấy từ dãy số bền vững của đơn vị.</p></form>"#,
        csrf = csrf_field(session),
    )
}

async fn counter_form<S: Store + 'static>(State(api): State<Api<S>>, headers: HeaderMap) -> Response {
    match clerk(&api, &headers) {
        Ok(s) => page("Tiếp nhận hồ sơ", Some(&s), &counter_body(&api, &s, None)).into_response(),
        Err(r) => r.into_response(),
    }
}

#[derive(Deserialize)]
struct CounterForm {
    procedure: String,
    channel: String,
    #[serde(default)]
    jurisdiction: String,
    #[serde(default)]
    case: String,
    #[serde(default)]
    csrf: String,
}

async fn counter_receive<S: Store + 'static>(
    State(api): State<Api<S>>,
    headers: HeaderMap,
    form: Result<Form<CounterForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let session = match clerk(&api, &headers) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let actor = &session.actor;
    let again = |status: StatusCode, message: &str, _: &Actor| {
        (status, page("Tiếp nhận hồ sơ", Some(&session), &counter_body(&api, &session, Some(message)))).into_response()
    };
    let Ok(Form(form)) = form else {
        return again(StatusCode::BAD_REQUEST, "Biểu mẫu không hợp lệ.", actor);
    };
    if !same_secret(&form.csrf, &session.csrf) {
        return again(
            StatusCode::FORBIDDEN,
            "Biểu mẫu đã hết hạn hoặc không đến từ trang này; vui lòng gửi lại.",
            actor,
        );
    }
    let procedure: ProcedureCode = match form.procedure.parse() {
        Ok(p) => p,
        Err(_) => return again(StatusCode::BAD_REQUEST, "Mã thủ tục không hợp lệ.", actor),
    };
    let channel = match form.channel.as_str() {
        "direct" => Channel::Direct,
        "postal" => Channel::Postal,
        _ => return again(StatusCode::BAD_REQUEST, "Hình thức nộp không hợp lệ.", actor),
    };
    let jurisdiction = Some(form.jurisdiction.trim().to_string()).filter(|j| !j.is_empty());
    let case = Some(form.case.trim().to_string()).filter(|c| !c.is_empty());
    let new = NewDossier { procedure: procedure.clone(), channel, agency: None, jurisdiction, applicant: None, case };
    let (code, state) = match api.receive(actor.clone(), new).await {
        Ok(x) => x,
        Err(e) => return again(e.status, &in_vietnamese(&e), actor),
    };
    let body = slip(&api, actor, &code, &state, channel);
    page("Giấy tiếp nhận hồ sơ và hẹn trả kết quả", Some(&session), &body).into_response()
}

/// The appointment slip (Decree 61/2018/ND-CP, Art. 19; its form in Circular 01/2018/TT-VPCP).
fn slip<S>(api: &Api<S>, actor: &Actor, code: &DossierCode, d: &motcua_core::Dossier, channel: Channel) -> String {
    let procedure = d.procedure.as_ref().map(|p| api.procedure_label(p)).unwrap_or_default();
    // Names from the register when there is one: the receiving agency, and the administrative
    // unit the dossier belongs to when it is not the receiving agency's own.
    let agency_code = code.agency().to_string();
    let register = api.units.as_deref();
    let agency = match register.and_then(|r| r.agency(&agency_code)) {
        Some(a) => format!("{} ({})", a.name, a.code),
        None => agency_code.clone(),
    };
    let home = register.and_then(|r| r.home_unit(&agency_code)).map(|u| &**u);
    let unit = match (register, d.jurisdiction.as_deref()) {
        (Some(r), Some(j)) if Some(j) != home => {
            let name = r.unit(j).map_or(j.to_string(), |u| format!("{} ({})", u.name, u.code));
            format!(r#"<tr><td>Đơn vị hành chính:</td><td id="jurisdiction">{}</td></tr>"#, esc(&name))
        }
        _ => String::new(),
    };
    // The case the appointment was computed for, when the procedure's limit depends on one.
    let case = match (d.procedure.as_ref(), d.case.as_deref()) {
        (Some(p), Some(id)) => {
            let name = api.cases.iter().find(|(c, i, _)| c == p && i == id).map_or(id, |(_, _, n)| n.as_str());
            format!(r#"<tr><td>Trường hợp:</td><td id="case">{}</td></tr>"#, esc(name))
        }
        _ => String::new(),
    };
    // Received outside the competent unit's area (Decree 309/2026/NĐ-CP): the desk's transfer
    // due time, and the appointment counted from the competent agency's receipt.
    let (transfer, due) = match (d.transfer_due, d.transferred_at) {
        (Some(t), None) => (
            format!(
                r#"<tr><td>Hạn chuyển hồ sơ đến cơ quan có thẩm quyền:</td><td id="transfer-due">{}</td></tr>"#,
                vi_opt(Some(t))
            ),
            esc("tính từ khi cơ quan có thẩm quyền tiếp nhận hồ sơ chuyển đến"),
        ),
        _ => (String::new(), vi_opt(d.due)),
    };
    format!(
        r#"<div class="slip" id="slip"><div class="head"><b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b><br>Độc lập - Tự do - Hạnh phúc<br><br>
<b>GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ</b><br>Mã hồ sơ: <b id="code">{code}</b></div><table>
<tr><td>Đơn vị tiếp nhận:</td><td id="agency">{agency}</td></tr>{unit}
<tr><td>Thủ tục:</td><td id="procedure">{procedure}</td></tr>{case}
<tr><td>Hình thức nộp:</td><td>{channel}</td></tr>
<tr><td>Tiếp nhận lúc:</td><td id="received">{received}</td></tr>{transfer}
<tr><td>Hẹn trả kết quả:</td><td id="due"><b>{due}</b></td></tr>
<tr><td>Cán bộ tiếp nhận:</td><td>{officer}</td></tr></table>
<p class="muted">Tra cứu tình trạng hồ sơ tại /track bằng mã hồ sơ.</p></div>
<p class="noprint"><button onclick="window.print()">In giấy hẹn</button> <a href="/counter">Tiếp nhận hồ sơ khác</a></p>"#,
        code = esc(&code.to_string()),
        agency = esc(&agency),
        procedure = esc(&procedure),
        channel = channel_name(channel),
        received = vi_opt(d.received_at),
        due = due,
        officer = esc(&actor.id.0),
    )
}

#[derive(Deserialize)]
struct TrackParams {
    code: Option<String>,
}

async fn track<S: Store + 'static>(
    State(api): State<Api<S>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Html<String>, PageError> {
    let who = signed_in(&api, &headers);
    let code = crate::query::<TrackParams>(&uri).ok().and_then(|p| p.code).unwrap_or_default();
    let code = code.trim().to_string();
    let form = format!(
        r#"<form class="box" method="get" action="/track"><label for="code">Mã hồ sơ</label><input type="text" name="code" id="code" value="{}" placeholder="H42.12-250303-0001" required><button type="submit" id="lookup">Tra cứu</button></form>"#,
        esc(&code)
    );
    if code.is_empty() {
        return Ok(page("Tra cứu hồ sơ", who.as_ref(), &form));
    }
    let fail = |status, message: String| PageError { status, who: who.clone(), message };
    let parsed: DossierCode =
        code.parse().map_err(|e| fail(StatusCode::BAD_REQUEST, format!("Mã hồ sơ {code:?} không hợp lệ: {e}")))?;
    let Some(t) = api.tracking(parsed).await? else {
        return Err(fail(StatusCode::NOT_FOUND, format!("Không tìm thấy hồ sơ {code}.")));
    };
    let body = format!(
        r#"{form}<table id="result"><tr><td>Mã hồ sơ</td><td>{}</td></tr><tr><td>Thủ tục</td><td>{}</td></tr><tr><td>Trạng thái</td><td id="status">{}</td></tr><tr><td>Tiếp nhận lúc</td><td>{}</td></tr><tr><td>Hẹn trả kết quả</td><td id="due">{}</td></tr><tr><td>Giải quyết xong lúc</td><td>{}</td></tr></table><p class="muted">Chỉ hiển thị tình trạng và thời hạn; thông tin cá nhân không được công khai.</p>"#,
        esc(&t.code),
        esc(&t.procedure_name.or(t.procedure).unwrap_or_default()),
        t.status_name.unwrap_or("—"),
        t.received_at.as_deref().and_then(|s| s.parse().ok()).map_or("—".into(), vi_time),
        t.due.as_deref().and_then(|s| s.parse().ok()).map_or("—".into(), vi_time),
        t.finished_at.as_deref().and_then(|s| s.parse().ok()).map_or("—".into(), vi_time),
    );
    Ok(page("Tra cứu hồ sơ", who.as_ref(), &body))
}

/// Where to go after signing in: a path on this site only — `/` then visible ASCII, never
/// `//host`, a backslash, or a control or space character a browser would drop (so that
/// `/%09/evil.example` cannot become `//evil.example`).
fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.len() <= 512
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n
        }
        _ => "/",
    }
}

/// Compares two secrets in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The cookie that pairs the login form with the browser it was shown to (a double-submit
/// token: another site cannot sign a browser in as someone else).
const LOGIN_COOKIE: &str = "motcua_login";

fn login_body(next: &str, nonce: &str, error: Option<&str>) -> String {
    let error = error.map(|e| format!(r#"<p class="error" id="error">{}</p>"#, esc(e))).unwrap_or_default();
    format!(
        r#"{error}<form class="box" method="post" action="/login" id="login"><label for="token">Mã truy cập (từ <code>motcua token</code>)</label><textarea name="token" id="token" rows="4" required></textarea><input type="hidden" name="next" value="{}"><input type="hidden" name="nonce" value="{}"><button type="submit" id="signin">Đăng nhập</button></form>"#,
        esc(next),
        esc(nonce),
    )
}

/// The login page with a fresh form nonce, and the cookie that carries it.
fn login_page(status: StatusCode, next: &str, error: Option<&str>) -> Response {
    let nonce = auth::random_hex();
    let mut r = (status, page("Đăng nhập", None, &login_body(next, &nonce, error))).into_response();
    let cookie = format!("{LOGIN_COOKIE}={nonce}; HttpOnly; SameSite=Strict; Path=/login");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn login_form(uri: axum::http::Uri) -> Response {
    let next = crate::query::<LoginForm>(&uri).ok().and_then(|f| f.next);
    login_page(StatusCode::OK, local_path(next.as_deref()), None)
}

#[derive(Deserialize)]
struct LoginForm {
    token: Option<String>,
    next: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

/// Signs a browser in: the token is checked and a server-side session opened for its actor,
/// lasting until the token's expiry (at most [`auth::SESSION_TTL`]); the cookie holds the
/// session's random id, never the token.
async fn login<S: Store + 'static>(
    State(api): State<Api<S>>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let form = form.map(|f| f.0).unwrap_or(LoginForm { token: None, next: None, nonce: None });
    let next = local_path(form.next.as_deref()).to_string();
    let token = form.token.unwrap_or_default();
    let token = token.trim();
    let refused = |message: &str| login_page(StatusCode::UNAUTHORIZED, &next, Some(message));
    // The form must come from our login page in this browser (its nonce, in its cookie).
    let paired = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(LOGIN_COOKIE)?.strip_prefix('='))
        .zip(form.nonce.as_deref())
        .is_some_and(|(cookie, field)| !cookie.is_empty() && same_secret(cookie, field));
    if !paired {
        return refused("Phiên đăng nhập đã hết hạn; vui lòng đăng nhập lại từ trang này.");
    }
    let Ok((actor, exp)) = auth::verify_claims(&api.secret, &api.accounts, token) else {
        return refused("Mã truy cập không hợp lệ hoặc đã hết hạn.");
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let ttl = std::time::Duration::from_secs(exp.saturating_sub(now));
    let Some(id) = api.sessions.open(actor, ttl) else {
        return refused("Không mở được phiên đăng nhập; vui lòng thử lại.");
    };
    let secure = if api.secure_cookie { "; Secure" } else { "" };
    let cookie = format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/{secure}");
    let mut r = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// Ends the session on the server (the cookie alone would not do: a copy of it stays valid
/// otherwise) and drops the cookie.
async fn logout<S: Store + 'static>(
    State(api): State<Api<S>>,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    if let (Some(id), Some(session)) = (auth::cookie(&headers), signed_in(&api, &headers)) {
        let csrf = form.map(|f| f.0.csrf).unwrap_or_default();
        if !same_secret(&csrf, &session.csrf) {
            return PageError {
                status: StatusCode::FORBIDDEN,
                who: Some(session),
                message: "Yêu cầu đăng xuất không đến từ trang này.".into(),
            }
            .into_response();
        }
        api.sessions.close(id);
    }
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("motcua_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(esc(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(local_path(Some("/counter")), "/counter");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "evil",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/x",
            "/ /x",
            "/\u{7f}",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local_path(None), "/");
    }
}
