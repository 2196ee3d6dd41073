//! One self-contained HTML page (no network, no scripts): the figures and four inline SVG
//! charts — monthly received vs resolved, on-time rate by sector, the backlog of open dossiers
//! over the year, and the Decision 766 indicators.

use crate::Report;
use escape_html as esc;

/// `s` escaped for HTML text and attribute values (`&`, `<`, `>`, `"`, `'`), in one pass.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const W: f64 = 760.0;
const H: f64 = 240.0;
const PAD: f64 = 40.0;

fn monthly(r: &Report) -> String {
    let max = r.by_month.iter().map(|m| m.received.max(m.resolved)).max().unwrap_or(1).max(1) as f64;
    let n = r.by_month.len().max(1) as f64;
    let slot = (W - 2.0 * PAD) / n;
    let mut svg = format!(r#"<svg viewBox="0 0 {W} {H}" role="img" aria-label="Tiếp nhận và giải quyết theo tháng">"#);
    for (i, m) in r.by_month.iter().enumerate() {
        let x = PAD + i as f64 * slot;
        for (j, (v, color)) in [(m.received, "rgb(74,123,183)"), (m.resolved, "rgb(107,179,107)")].iter().enumerate() {
            let h = (*v as f64 / max) * (H - 2.0 * PAD);
            svg.push_str(&format!(
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{color}"><title>{} {}: {v}</title></rect>"#,
                x + 4.0 + j as f64 * (slot - 8.0) / 2.0,
                H - PAD - h,
                (slot - 8.0) / 2.0,
                h,
                esc(&m.key),
                if j == 0 { "tiếp nhận" } else { "đã giải quyết" },
            ));
        }
        svg.push_str(&format!(
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"#,
            x + slot / 2.0,
            H - PAD + 14.0,
            esc(&m.key[5..])
        ));
    }
    svg.push_str(&format!(
        r#"<text x="{PAD}" y="16" font-size="11">cao nhất {max:.0} · xanh lam: tiếp nhận · xanh lá: đã giải quyết</text></svg>"#
    ));
    svg
}

fn sectors(r: &Report) -> String {
    let rows = &r.by_sector;
    let h = 22.0 * rows.len() as f64 + 20.0;
    let mut svg =
        format!(r#"<svg viewBox="0 0 {W} {h}" role="img" aria-label="Tỷ lệ trước và đúng hạn theo lĩnh vực">"#);
    // Bars start at 95 % so the differences show; the axis says so.
    let lo = 95.0;
    for (i, s) in rows.iter().enumerate() {
        let y = 10.0 + i as f64 * 22.0;
        let frac = ((s.early_or_on_time_pct - lo) / (100.0 - lo)).clamp(0.0, 1.0);
        svg.push_str(&format!(r#"<text x="0" y="{:.1}" font-size="11">{}</text>"#, y + 13.0, esc(&s.key)));
        svg.push_str(&format!(
            r#"<rect x="300" y="{y:.1}" width="{:.1}" height="16" fill="rgb(107,179,107)"><title>{}: {:.2} %</title></rect>"#,
            frac * 380.0,
            esc(&s.key),
            s.early_or_on_time_pct
        ));
        svg.push_str(&format!(
            r#"<text x="{:.1}" y="{:.1}" font-size="11">{:.2} %</text>"#,
            305.0 + frac * 380.0,
            y + 13.0,
            s.early_or_on_time_pct
        ));
    }
    svg.push_str(&format!(r#"<text x="300" y="{:.1}" font-size="10">trục từ {lo} % đến 100 %</text></svg>"#, h - 2.0));
    svg
}

fn backlog(r: &Report) -> String {
    let max = r.backlog.iter().map(|(_, v)| *v).max().unwrap_or(1).max(1) as f64;
    let n = r.backlog.len().max(2) as f64;
    let points: Vec<String> = r
        .backlog
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            format!(
                "{:.1},{:.1}",
                PAD + i as f64 * (W - 2.0 * PAD) / (n - 1.0),
                H - PAD - (*v as f64 / max) * (H - 2.0 * PAD)
            )
        })
        .collect();
    let first = r.backlog.first().map_or("", |(d, _)| d.as_str());
    let last = r.backlog.last().map_or("", |(d, _)| d.as_str());
    format!(
        r#"<svg viewBox="0 0 {W} {H}" role="img" aria-label="Hồ sơ đang giải quyết trong năm"><polyline fill="none" stroke="rgb(192,80,77)" stroke-width="1.5" points="{}"/><text x="{PAD}" y="16" font-size="11">hồ sơ đang giải quyết cuối mỗi ngày · cao nhất {max:.0}</text><text x="{PAD}" y="{:.1}" font-size="10">{}</text><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{}</text></svg>"#,
        points.join(" "),
        H - PAD + 14.0,
        esc(first),
        W - PAD,
        H - PAD + 14.0,
        esc(last)
    )
}

/// The scorecard chart: one bar per group, its full width the group's maximum, grey for the
/// points of indicators not measured, blue for the points earned.
fn scorecard(r: &Report) -> String {
    let groups = &r.scorecard.groups;
    let h = 26.0 * groups.len() as f64 + 10.0;
    let mut svg = format!(r#"<svg viewBox="0 0 {W} {h}" role="img" aria-label="Decision 766 scorecard by group">"#);
    for (i, g) in groups.iter().enumerate() {
        let y = 6.0 + i as f64 * 26.0;
        let scale = 200.0 / g.max_points.max(1e-9);
        svg.push_str(&format!(r#"<text x="0" y="{:.1}" font-size="11">{}. {}</text>"#, y + 13.0, g.id, esc(g.name)));
        svg.push_str(&format!(r#"<rect x="420" y="{y:.1}" width="200" height="16" fill="rgb(240,240,240)"/>"#));
        svg.push_str(&format!(
            r#"<rect x="420" y="{y:.1}" width="{:.1}" height="16" fill="rgb(205,205,205)"/>"#,
            scale * g.measured_max
        ));
        svg.push_str(&format!(
            r#"<rect x="420" y="{y:.1}" width="{:.1}" height="16" fill="rgb(74,123,183)"/><text x="630" y="{:.1}" font-size="11">{:.2} of {:.0} measured / {:.0}</text>"#,
            scale * g.points,
            y + 13.0,
            g.points,
            g.measured_max,
            g.max_points
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn scorecard_rows(r: &Report) -> String {
    let mut rows = String::new();
    for g in &r.scorecard.groups {
        rows.push_str(&format!(
            r#"<tr style="background:#f4f4f4"><th colspan="7">{}. {} — {:.2} of {:.0} measured ({:.0} points)</th></tr>"#,
            g.id,
            esc(g.name),
            g.points,
            g.measured_max,
            g.max_points
        ));
        for i in &g.indicators {
            let (mut value, points) = match (i.value_pct, i.points) {
                (Some(v), Some(p)) => (format!("{v:.2} %"), format!("{p:.2} / {:.0}", i.max_points.unwrap_or(0.0))),
                (Some(v), None) => (format!("{v:.2} %"), "—".to_string()),
                _ => ("not measured".to_string(), esc(i.needs.unwrap_or(""))),
            };
            if let Some((label, v)) = i.beside {
                value.push_str(&format!("<br><small>{}: {v:.2} %</small>", esc(label)));
            }
            rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{value}</td><td>{:.0} %</td><td>{points}</td><td>{}</td></tr>",
                i.id,
                esc(i.name),
                esc(i.formula),
                i.threshold_pct,
                esc(i.points_source)
            ));
        }
    }
    rows
}

impl Report {
    /// The three charts with their headings, as an HTML fragment (inline SVG, no scripts):
    /// received and resolved by month of receipt, early or on time by sector, and the backlog
    /// of open dossiers over the year. A dashboard embeds it; [`Report::to_html`] does too.
    pub fn charts_html(&self) -> String {
        format!(
            "<h2>Tiếp nhận và giải quyết theo tháng tiếp nhận</h2>{}\n<h2>Tỷ lệ trước và đúng hạn theo lĩnh vực</h2>{}\n<h2>Hồ sơ tồn đọng</h2>{}",
            monthly(self),
            sectors(self),
            backlog(self)
        )
    }

    /// The report as one self-contained HTML page.
    pub fn to_html(&self, title: &str) -> String {
        let t = &self.totals;
        let rows = scorecard_rows(self);
        let mut step_rows = String::new();
        for r in self.by_step_agency.iter().take(15) {
            let steps: Vec<String> = self
                .by_step
                .iter()
                .filter(|s| s.agency == r.agency && s.late > 0)
                .map(|s| format!("{} ({})", s.step, s.late))
                .collect();
            step_rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2} %</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.agency),
                r.started,
                r.late,
                r.late_pct,
                r.open,
                r.open_overdue,
                esc(&steps.join(", "))
            ));
        }
        let units = if self.by_unit.is_empty() {
            String::new()
        } else {
            let mut rows = String::new();
            for r in &self.by_unit {
                rows.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2} %</td><td>{}</td><td>{}</td></tr>",
                    esc(&r.key),
                    esc(&r.name),
                    r.received,
                    r.resolved,
                    r.early_or_on_time_pct,
                    r.open,
                    r.open_overdue
                ));
            }
            format!(
                "<h2>Theo đơn vị hành chính (cộng dồn lên đơn vị cấp trên)</h2><table id=\"units\"><tr><th>đơn vị</th><th>tên</th><th>tiếp nhận</th><th>đã giải quyết</th><th>trước và đúng hạn</th><th>đang giải quyết</th><th>quá hạn</th></tr>{rows}</table>\n"
            )
        };
        let mut periods = String::new();
        for r in &self.by_period {
            periods.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2} %</td><td>{:.2} %</td></tr>",
                esc(&r.key),
                r.received,
                r.resolved,
                r.open,
                r.open_overdue,
                r.multi_supplement,
                r.early_or_on_time_pct,
                r.early_or_on_time_766_pct
            ));
        }
        let sc = &self.scorecard;
        let rating = match (sc.scaled_score, sc.rating) {
            (Some(score), Some(rating)) => format!("{score:.2} ({})", rating.label()),
            _ => "—".to_string(),
        };
        format!(
            r#"<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{title}</title><style>
body{{font-family:system-ui,sans-serif;max-width:820px;margin:24px auto;color:#222}}h1{{font-size:22px}}h2{{font-size:16px;margin-top:28px}}
table{{border-collapse:collapse;font-size:13px}}td,th{{border:1px solid #ccc;padding:3px 6px;text-align:left}}svg{{width:100%;height:auto}}
.kpi{{display:flex;gap:14px;flex-wrap:wrap}}.kpi div{{border:1px solid #ddd;padding:8px 12px;border-radius:6px}}.kpi b{{display:block;font-size:20px}}
</style></head><body><h1>{title}</h1>
<div class="kpi"><div>received<b>{}</b></div><div>online<b>{}</b></div><div>resolved<b>{}</b></div><div>early or on time ÷ resolved (province convention)<b>{} ({:.2} %)</b></div><div>2.1 by Decision 766 (open dossiers counted)<b>{:.2} %</b></div><div>late<b>{}</b></div><div>open at {}<b>{}</b></div><div>766, measured part scaled to 100<b>{rating}</b></div></div>
{}
{units}<h2>2.1 by period of completion, both conventions</h2>
<p style="font-size:12px;color:#666">Decision 766: resolved in the period plus open at its end (in time = on time, overdue = late), more than one supplement request = late. Province convention: early or on time ÷ resolved in the period.</p>
<table id="periods"><tr><th>period</th><th>received</th><th>resolved</th><th>open at end</th><th>overdue at end</th><th>&gt;1 supplement</th><th>province convention</th><th>Decision 766</th></tr>{periods}</table>
<h2>Lateness by step and agency (each step against its own due time; 15 agencies with most late steps)</h2>
<table><tr><th>agency</th><th>steps</th><th>late</th><th>late share</th><th>open</th><th>open overdue</th><th>late steps</th></tr>{step_rows}</table>
<h2>Decision 766 scorecard: {} of {} indicators measured, {:.2} of {:.0} points</h2>{}
<p style="font-size:12px;color:#666">Formulas: {}.</p>
<table><tr><th>id</th><th>indicator</th><th>formula</th><th>value</th><th>full at</th><th>points</th><th>source of the maximum</th></tr>{rows}</table>
<h2>Phản ánh, kiến nghị (feedback) at {}</h2>
<table id="feedback"><tr><th>received</th><th>classified (5.1)</th><th>handled in time (5.2)</th><th>answered</th><th>rejected</th><th>open</th><th>unsatisfied</th><th>followed up</th><th>against satisfaction (5.3)</th></tr><tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>
<p style="font-size:12px;color:#666">Deadlines: rejected within 2 working days of receipt, answered within 15, the answer published within 2 (Decision 766's formula description, by the Government Office; Decree 20/2008/NĐ-CP does not set them).</p>
<p style="font-size:12px;color:#666">Generated by motcua from the stored projections. Points: min(1, value / threshold) × maximum (docs/indicators.md §2). {}</p>
</body></html>
"#,
            t.received,
            t.online,
            t.resolved,
            t.early + t.on_time,
            t.early_or_on_time_pct,
            t.early_or_on_time_766_pct,
            t.late,
            esc(&self.as_of.to_string()),
            t.open,
            self.charts_html(),
            sc.measured,
            sc.indicators,
            sc.points,
            sc.measured_max,
            scorecard(self),
            esc(crate::scorecard::FORMULA_SOURCE),
            esc(&self.as_of.to_string()),
            self.feedback.received,
            self.feedback.classified,
            self.feedback.on_time,
            self.feedback.answered,
            self.feedback.rejected,
            self.feedback.open,
            self.feedback.unsatisfied,
            self.feedback.followed_up,
            self.feedback.dissatisfied,
            esc(sc.rating_note),
            title = esc(title),
        )
    }
}
