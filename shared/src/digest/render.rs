//! The digest as text, HTML and JSON, and the subject line of its mail.
//!
//! Report text (organization names, host names, addresses, result types) is
//! untrusted: in text output its control characters are written as escapes and
//! long values are cut; in HTML every piece of it is escaped. The subject is
//! built from counts and the day only, never from report text.

use std::fmt::Write as _;

use super::explain::explain;
use super::{percent, thousands, Count, Digest, DomainDigest, Level, Status};

/// Longest piece of report text shown, in characters; longer ones are cut
/// with an ellipsis.
pub const MAX_SHOWN_CHARS: usize = 120;

/// Report text made safe to show: control characters as escapes, cut to
/// [`MAX_SHOWN_CHARS`].
pub fn inert(s: &str) -> String {
    crate::text::escaped(s, MAX_SHOWN_CHARS)
}

/// HTML-escapes [`inert`] text.
pub fn html(s: &str) -> String {
    crate::text::html(&inert(s))
}

/// `1 report`, `2 reports`, `1,000 sessions`.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", thousands(n))
    }
}

fn rate_text(r: Option<f64>) -> String {
    r.map_or_else(|| "no sessions".to_owned(), |r| format!("{}%", percent(r)))
}

fn signed_points(x: f64) -> String {
    if x >= 0.0 {
        format!("+{x:.1} pt")
    } else {
        format!("{x:.1} pt")
    }
}

/// The trend against the day before and the 7-day average, as phrases.
/// The non-empty "... with failures" lists of a domain, with their titles, as
/// both renderers show them.
fn failure_lists(d: &DomainDigest) -> impl Iterator<Item = (&'static str, &[Count])> {
    [
        (
            "Receiving MX hosts with failures",
            d.receiving_mx_hosts.as_slice(),
        ),
        ("Sending MTA addresses with failures", d.sending_ips.as_slice()),
        ("Receiving addresses with failures", d.receiving_ips.as_slice()),
    ]
    .into_iter()
    .filter(|(_, list)| !list.is_empty())
}

fn trend_parts(d: &DomainDigest) -> Vec<String> {
    let mut trend = Vec::new();
    if let Some(c) = d.trend.change_vs_previous_day {
        trend.push(format!("{} vs the day before", signed_points(c)));
    }
    if let (Some(a), Some(c)) = (d.trend.average_7d, d.trend.change_vs_7d) {
        trend.push(format!(
            "{} vs the 7-day average of {}%",
            signed_points(c),
            percent(a)
        ));
    }
    trend
}

/// `MM-DD rate%` (or `MM-DD -` without sessions) per day of the history.
fn history_labels(d: &DomainDigest) -> Vec<String> {
    d.trend
        .history
        .iter()
        .map(|p| {
            let day = p.day.get(5..).unwrap_or(&p.day);
            match p.success_rate {
                Some(r) => format!("{day} {}%", percent(r)),
                None => format!("{day} -"),
            }
        })
        .collect()
}

/// The subject of the digest mail, e.g. `TLS report digest 2024-11-08: 3
/// domains, 99.2% TLS success, 1 needs attention`. Made of counts only; it
/// never holds a line break.
pub fn subject(d: &Digest) -> String {
    let t = &d.totals;
    let domains = if t.domains == 1 {
        "1 domain".to_owned()
    } else {
        format!("{} domains", t.domains)
    };
    let success = match t.success_rate {
        Some(r) => format!("{}% TLS success", percent(r)),
        None => "no sessions reported".to_owned(),
    };
    let attention = match t.needs_attention {
        0 => "all clear".to_owned(),
        1 => "1 needs attention".to_owned(),
        n => format!("{n} need attention"),
    };
    let s = format!(
        "TLS report digest {}: {domains}, {success}, {attention}",
        inert(&d.day)
    );
    s.replace(['\r', '\n'], " ")
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Attention => "needs attention",
        Status::NoReports => "no reports",
    }
}

/// The digest as plain text.
pub fn text(d: &Digest) -> String {
    let mut o = String::new();
    let t = &d.totals;
    let _ = writeln!(o, "{}", subject(d));
    let _ = writeln!(o, "{}", "=".repeat(subject(d).chars().count()));
    let _ = writeln!(
        o,
        "{}, {} ({} successful, {} failed), success rate {}.",
        count(t.reports, "report"),
        count(t.successful.saturating_add(t.failed), "session"),
        thousands(t.successful),
        thousands(t.failed),
        rate_text(t.success_rate)
    );
    if t.unreadable_objects > 0 {
        let _ = writeln!(
            o,
            "{} of the day could not be read as reports.",
            count(t.unreadable_objects, "stored object")
        );
    }
    if t.reports_of_other_domains > 0 {
        let _ = writeln!(
            o,
            "{} of further domains are counted in no domain (too many distinct domains).",
            count(t.reports_of_other_domains, "report")
        );
    }
    if !d.open_alerts.is_empty() {
        let _ = writeln!(o, "\nOpen alerts ({}):", d.open_alerts.len());
        for a in &d.open_alerts {
            let _ = writeln!(o, "- {}", alert_line(a));
        }
    }
    if d.domains.is_empty() {
        let _ = writeln!(o, "\nNo reports and no configured domains for this day.");
    }
    for dom in &d.domains {
        o.push('\n');
        domain_text(&mut o, dom);
    }
    o
}

/// One open alert on one line: domain, rule, subject, since when, what.
fn alert_line(a: &super::OpenAlert) -> String {
    let subject = if a.subject.is_empty() {
        String::new()
    } else {
        format!(" ({})", inert(&a.subject))
    };
    format!(
        "{} {}{subject}, open since {}: {}",
        inert(&a.domain),
        inert(&a.rule),
        inert(&a.since),
        inert(&a.summary)
    )
}

fn domain_text(o: &mut String, d: &DomainDigest) {
    let name = inert(&d.domain);
    let head = format!("{name}: {}", status_word(d.status));
    let _ = writeln!(o, "{head}\n{}", "-".repeat(head.chars().count()));
    if d.status == Status::NoReports {
        for f in &d.findings {
            let _ = writeln!(o, "! {}", crate::text::spaced(&f.message, crate::text::UNCUT));
        }
        return;
    }
    let _ = writeln!(
        o,
        "{} from {}; {}, {} failed; success rate {}.",
        count(d.reports, "report"),
        count(d.organizations.len() as u64, "organization"),
        count(d.successful.saturating_add(d.failed), "session"),
        thousands(d.failed),
        rate_text(d.success_rate)
    );
    let trend = trend_parts(d);
    if !trend.is_empty() {
        let _ = writeln!(o, "Trend: {}.", trend.join("; "));
    }
    for f in &d.findings {
        let mark = if f.level == Level::Warning { "!" } else { "i" };
        let _ = writeln!(
            o,
            "{mark} {}",
            crate::text::spaced(&f.message, crate::text::UNCUT)
        );
    }
    if !d.result_types.is_empty() {
        let _ = writeln!(o, "\nFailures by result type:");
        for (rt, n) in sorted_types(d) {
            let e = explain(rt);
            let new = if d.trend.new_result_types.iter().any(|t| t == rt) {
                " (new)"
            } else {
                ""
            };
            let _ = writeln!(o, "  {} {}{new}", inert(rt), thousands(n));
            let _ = writeln!(o, "    What it means: {}", fill_domain(e.meaning, &d.domain));
            let _ = writeln!(
                o,
                "    Usual causes: {}.",
                fill_domain(&e.causes.join("; "), &d.domain)
            );
            let _ = writeln!(o, "    Check first: {}", fill_domain(e.check_first, &d.domain));
            let _ = writeln!(o, "    See: {}", e.rfc);
        }
    }
    let _ = writeln!(o, "\nBy organization:");
    for org in &d.organizations {
        let _ = writeln!(
            o,
            "  {}: {}, {} successful, {} failed",
            inert(&org.name),
            count(org.reports, "report"),
            thousands(org.successful),
            thousands(org.failed)
        );
    }
    for (title, list) in failure_lists(d) {
        let items: Vec<String> = list
            .iter()
            .map(|c| format!("{} ({})", inert(&c.value), thousands(c.failed)))
            .collect();
        let _ = writeln!(o, "{title}: {}", items.join(", "));
    }
    let kinds: Vec<String> = d
        .policy_types
        .iter()
        .map(|(k, n)| format!("{} {}", inert(k), thousands(*n)))
        .collect();
    let modes: Vec<String> = d
        .sts_modes
        .iter()
        .map(|(k, n)| format!("{} {}", inert(k), thousands(*n)))
        .collect();
    if !kinds.is_empty() {
        let mut line = format!("Policies evaluated: {}", kinds.join(", "));
        if !modes.is_empty() {
            let _ = write!(line, "; MTA-STS modes seen: {}", modes.join(", "));
        }
        let _ = writeln!(o, "{line}");
    }
    let history = history_labels(d);
    let with_data = d
        .trend
        .history
        .iter()
        .filter(|p| p.success_rate.is_some())
        .count();
    if with_data > 1 {
        let _ = writeln!(o, "Last days: {}", history.join(", "));
    }
}

fn fill_domain(s: &str, domain: &str) -> String {
    s.replace("DOMAIN", &inert(domain))
}

fn sorted_types(d: &DomainDigest) -> Vec<(&str, u64)> {
    let mut v: Vec<(&str, u64)> = d.result_types.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    v
}

/// The digest as JSON (pretty, with a final newline).
pub fn json(d: &Digest) -> String {
    let mut s = serde_json::to_string_pretty(d).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

const FONT: &str = "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif";
const CELL: &str = "padding:4px 8px;border-bottom:1px solid #e1e4e8;text-align:left;vertical-align:top";
const NUM: &str = "padding:4px 8px;border-bottom:1px solid #e1e4e8;text-align:right;vertical-align:top";

fn badge(s: Status) -> String {
    let (bg, fg) = match s {
        Status::Ok => ("#dafbe1", "#116329"),
        Status::Attention => ("#ffebe9", "#a40e26"),
        Status::NoReports => ("#fff8c5", "#7d4e00"),
    };
    format!(
        "<span style=\"background:{bg};color:{fg};padding:2px 8px;border-radius:10px;font-size:12px\">{}</span>",
        status_word(s)
    )
}

/// The digest as one HTML document with inline CSS (for mail clients, which
/// drop style sheets). `images[i]` is the `src` of domain `i`'s chart (a
/// `cid:` reference in mail, a `data:` URI in a stored page); `None` leaves
/// the chart out. Every piece of report text is escaped.
pub fn html_page(d: &Digest, images: &[Option<String>]) -> String {
    let mut o = String::new();
    let t = &d.totals;
    let title = html(&subject(d));
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head>\n\
         <body style=\"margin:0;padding:16px;background:#f6f8fa;{FONT};color:#1f2328\">\n\
         <div style=\"max-width:720px;margin:0 auto;background:#ffffff;border:1px solid #d0d7de;border-radius:6px;padding:16px\">\n\
         <h1 style=\"font-size:20px;margin:0 0 8px\">TLS report digest {}</h1>\n",
        html(&d.day)
    );
    let _ = writeln!(
        o,
        "<p style=\"margin:0 0 12px\">{}, {}, {}, <b>{}</b> TLS success, <b>{}</b> needing attention.</p>",
        count(t.domains, "domain"),
        count(t.reports, "report"),
        count(t.successful.saturating_add(t.failed), "session"),
        html(&rate_text(t.success_rate)),
        thousands(t.needs_attention)
    );
    if t.unreadable_objects > 0 {
        let _ = writeln!(
            o,
            "<p style=\"color:#a40e26\">{} of the day could not be read as reports.</p>",
            count(t.unreadable_objects, "stored object")
        );
    }
    if !d.domains.is_empty() {
        let _ = writeln!(
            o,
            "<table role=\"presentation\" cellspacing=\"0\" style=\"border-collapse:collapse;width:100%;margin:0 0 16px\">\
             <tr><th style=\"{CELL}\">Domain</th><th style=\"{CELL}\">Status</th><th style=\"{NUM}\">Reports</th>\
             <th style=\"{NUM}\">Failed</th><th style=\"{NUM}\">Success</th></tr>"
        );
        for dom in &d.domains {
            let _ = writeln!(
                o,
                "<tr><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{}</td><td style=\"{NUM}\">{}</td>\
                 <td style=\"{NUM}\">{}</td><td style=\"{NUM}\">{}</td></tr>",
                html(&dom.domain),
                badge(dom.status),
                thousands(dom.reports),
                thousands(dom.failed),
                html(&rate_text(dom.success_rate))
            );
        }
        let _ = writeln!(o, "</table>");
    } else {
        let _ = writeln!(o, "<p>No reports and no configured domains for this day.</p>");
    }
    if !d.open_alerts.is_empty() {
        let _ = writeln!(
            o,
            "<h2 style=\"font-size:17px;margin:16px 0 6px\">Open alerts ({})</h2>\n<ul style=\"margin:0 0 12px;padding-left:20px\">",
            d.open_alerts.len()
        );
        for a in &d.open_alerts {
            let _ = writeln!(o, "<li>{}</li>", html(&alert_line(a)));
        }
        let _ = writeln!(o, "</ul>");
    }
    for (i, dom) in d.domains.iter().enumerate() {
        domain_html(&mut o, dom, images.get(i).and_then(|s| s.as_deref()));
    }
    let _ = writeln!(
        o,
        "<p style=\"font-size:12px;color:#656d76;margin:16px 0 0\">Sent by stsguard from the SMTP TLS reports (RFC 8460) of {}. Counts are sessions as the reporting senders saw them.</p>\n</div>\n</body></html>",
        html(&d.day)
    );
    o
}

fn domain_html(o: &mut String, d: &DomainDigest, image: Option<&str>) {
    let _ = writeln!(
        o,
        "<h2 style=\"font-size:17px;margin:20px 0 6px;border-top:1px solid #d0d7de;padding-top:12px\">{} {}</h2>",
        html(&d.domain),
        badge(d.status)
    );
    if d.status != Status::NoReports {
        let _ = writeln!(
            o,
            "<p style=\"margin:0 0 8px\">{} from {}; {}, {} failed; success rate <b>{}</b>.</p>",
            count(d.reports, "report"),
            count(d.organizations.len() as u64, "organization"),
            count(d.successful.saturating_add(d.failed), "session"),
            thousands(d.failed),
            html(&rate_text(d.success_rate))
        );
    }
    let trend = trend_parts(d);
    if !trend.is_empty() {
        let _ = writeln!(
            o,
            "<p style=\"margin:0 0 8px;color:#656d76\">Trend: {}.</p>",
            html(&trend.join("; "))
        );
    }
    if let Some(src) = image {
        let history: Vec<_> = d.trend.history.iter().filter_map(|p| p.success_rate).collect();
        let floor = super::chart::scale_floor(history);
        let alt = history_labels(d).join(", ");
        let _ = writeln!(
            o,
            "<p style=\"margin:0 0 8px\"><img src=\"{}\" width=\"{}\" height=\"{}\" alt=\"TLS success rate per day: {}\" style=\"display:block;border:0\">\
             <span style=\"font-size:12px;color:#656d76\">TLS success rate, last 14 days (scale {}&ndash;100%; grey: no data)</span></p>",
            crate::text::html(src),
            super::chart::WIDTH,
            super::chart::HEIGHT,
            html(&alt),
            floor
        );
    }
    if !d.findings.is_empty() {
        let _ = writeln!(o, "<ul style=\"margin:0 0 8px;padding-left:20px\">");
        for f in &d.findings {
            let colour = if f.level == Level::Warning {
                "#a40e26"
            } else {
                "#656d76"
            };
            let _ = writeln!(
                o,
                "<li style=\"color:{colour};margin:0 0 4px\">{}</li>",
                crate::text::html(&f.message)
            );
        }
        let _ = writeln!(o, "</ul>");
    }
    if !d.result_types.is_empty() {
        let _ = writeln!(
            o,
            "<h3 style=\"font-size:15px;margin:12px 0 4px\">Failures by result type</h3>"
        );
        for (rt, n) in sorted_types(d) {
            let e = explain(rt);
            let new = if d.trend.new_result_types.iter().any(|t| t == rt) {
                " <span style=\"color:#a40e26\">(new)</span>"
            } else {
                ""
            };
            let causes: String = e
                .causes
                .iter()
                .map(|c| format!("<li>{}</li>", crate::text::html(&fill_domain(c, &d.domain))))
                .collect();
            let _ = writeln!(
                o,
                "<div style=\"margin:0 0 10px;padding:8px;background:#f6f8fa;border-radius:6px\">\
                 <b><code>{}</code></b> &mdash; {}{new}<br>\
                 {}<br><span style=\"color:#656d76\">Usual causes:</span><ul style=\"margin:2px 0;padding-left:20px\">{causes}</ul>\
                 <span style=\"color:#656d76\">Check first:</span> {}<br>\
                 <span style=\"font-size:12px;color:#656d76\">{}</span></div>",
                html(rt),
                count(n, "failed session"),
                crate::text::html(&fill_domain(e.meaning, &d.domain)),
                code_spans(&crate::text::html(&fill_domain(e.check_first, &d.domain))),
                html(e.rfc)
            );
        }
    }
    if !d.organizations.is_empty() {
        let _ = writeln!(
            o,
            "<table role=\"presentation\" cellspacing=\"0\" style=\"border-collapse:collapse;width:100%;margin:8px 0\">\
             <tr><th style=\"{CELL}\">Reporting organization</th><th style=\"{NUM}\">Reports</th><th style=\"{NUM}\">Successful</th><th style=\"{NUM}\">Failed</th></tr>"
        );
        for org in &d.organizations {
            let _ = writeln!(
                o,
                "<tr><td style=\"{CELL}\">{}</td><td style=\"{NUM}\">{}</td><td style=\"{NUM}\">{}</td><td style=\"{NUM}\">{}</td></tr>",
                html(&org.name),
                thousands(org.reports),
                thousands(org.successful),
                thousands(org.failed)
            );
        }
        let _ = writeln!(o, "</table>");
    }
    for (title, list) in failure_lists(d) {
        let items: Vec<String> = list
            .iter()
            .map(|c| format!("<code>{}</code> ({})", html(&c.value), thousands(c.failed)))
            .collect();
        let _ = writeln!(
            o,
            "<p style=\"margin:4px 0\"><span style=\"color:#656d76\">{title}:</span> {}</p>",
            items.join(", ")
        );
    }
    if !d.policy_types.is_empty() {
        let kinds: Vec<String> = d
            .policy_types
            .iter()
            .map(|(k, n)| format!("{} {}", html(k), thousands(*n)))
            .collect();
        let modes: Vec<String> = d
            .sts_modes
            .iter()
            .map(|(k, n)| format!("{} {}", html(k), thousands(*n)))
            .collect();
        let mut line = format!("Policies evaluated: {}", kinds.join(", "));
        if !modes.is_empty() {
            let _ = write!(line, "; MTA-STS modes seen: {}", modes.join(", "));
        }
        let _ = writeln!(o, "<p style=\"margin:4px 0;color:#656d76\">{line}</p>");
    }
}

/// Turns `` `command` `` spans of already escaped text into `<code>` elements.
fn code_spans(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len() + 32);
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("<code>");
            out.push_str(part);
            out.push_str("</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inert_and_html_escape_hostile_text() {
        assert_eq!(inert("a\r\nb\x1b[31m"), "a\\u{d}\\u{a}b\\u{1b}[31m");
        assert_eq!(
            html("<script>\"x\"&'y'</script>"),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;"
        );
        let long = "x".repeat(500);
        assert_eq!(inert(&long).chars().count(), MAX_SHOWN_CHARS + 1);
        assert_eq!(crate::text::html("a<b\nc"), "a&lt;b c");
        assert_eq!(
            code_spans("run `a &amp; b` then `c`"),
            "run <code>a &amp; b</code> then <code>c</code>"
        );
    }
}
