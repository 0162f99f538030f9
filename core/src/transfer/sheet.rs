//! A printable paper backup: one self-contained HTML page (no scripts, no external files)
//! with one QR code per account — its otpauth URI, which any authenticator scans back in —
//! and the URI, issuer, label, tags and notes printed under it. The QR matrix comes from the
//! `qrcode` crate; the SVG is written here, one `<path>` of horizontal runs of dark modules
//! with a 4-module quiet zone, so the page stays small and prints sharp at any size. Every
//! text is HTML-escaped. Print CSS keeps a card from breaking across pages.
//!
//! An account whose URI is too long for one QR code is printed as text only (named in a
//! notice); nothing else is lost.

use qrcode::{Color, EcLevel, QrCode};
use zeroize::Zeroizing;

use super::export::{Export, ExportNotice};
use crate::otpauth;
use crate::vault::Entry;

/// Light modules around the code, as the QR specification asks.
pub const QUIET_ZONE: usize = 4;

const STYLE: &str = "\
body{font-family:sans-serif;margin:1.5em;color:#000;background:#fff}\
h1{font-size:1.3em}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(16em,1fr));gap:1em}\
.card{border:1px solid #888;padding:.8em;break-inside:avoid;page-break-inside:avoid}\
.card svg{width:14em;height:14em;display:block;margin:0 auto}\
.issuer{font-weight:bold;margin:.4em 0 0}\
.label{margin:0 0 .3em}\
.uri{font-family:monospace;font-size:.7em;word-break:break-all;margin:.3em 0}\
.meta{font-size:.8em;margin:.2em 0}\
@page{margin:1.2cm}\
@media print{body{margin:0}.warning{border:1px solid #000}}";

pub fn export(entries: &[Entry]) -> Export {
    let mut html = Zeroizing::new(String::with_capacity(4096 + entries.len() * 8192));
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    html.push_str("<title>Countersign paper backup</title><style>");
    html.push_str(STYLE);
    html.push_str("</style></head><body>\n<h1>Countersign paper backup</h1>\n");
    html.push_str(
        "<p class=\"warning\">Every code below holds a secret: anyone who sees this page can \
         make your one-time codes. Keep it as safe as the accounts it protects.</p>\n",
    );
    html.push_str("<div class=\"cards\">\n");
    let mut notices = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let uri = Zeroizing::new(otpauth::to_uri(&entry.account));
        let svg = qr_svg(&uri);
        if svg.is_none() {
            notices.push(ExportNotice {
                index,
                name: entry.account.display_name(),
                skipped: false,
                reason: "the URI is too long for one QR code: printed as text only".into(),
            });
        }
        card(&mut html, entry, &uri, svg.as_deref().map(String::as_str));
    }
    html.push_str("</div>\n</body></html>\n");
    let bytes = Zeroizing::new(html.as_bytes().to_vec());
    Export::new(bytes, entries.len(), notices)
}

fn card(html: &mut String, entry: &Entry, uri: &str, svg: Option<&str>) {
    let account = &entry.account;
    html.push_str("<div class=\"card\">");
    if let Some(svg) = svg {
        html.push_str(svg);
    }
    let issuer = account.issuer.as_deref().unwrap_or("");
    html.push_str(&format!(
        "<p class=\"issuer\">{}</p><p class=\"label\">{}</p><p class=\"uri\">{}</p>",
        escape(issuer),
        escape(&account.label),
        escape(uri)
    ));
    if !entry.meta.tags.is_empty() {
        let tags = entry.meta.tags.join(", ");
        html.push_str(&format!("<p class=\"meta\">Tags: {}</p>", escape(&tags)));
    }
    if !entry.meta.notes.is_empty() {
        html.push_str(&format!(
            "<p class=\"meta\">Notes: {}</p>",
            escape(&entry.meta.notes)
        ));
    }
    html.push_str("</div>\n");
}

/// The QR code of `text` as an inline SVG, or `None` when it does not fit in one code.
fn qr_svg(text: &str) -> Option<Zeroizing<String>> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET_ZONE;
    let mut svg = Zeroizing::new(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\""
    ));
    for (y, row) in colors.chunks(width.max(1)).enumerate() {
        let mut x = 0;
        while x < row.len() {
            if row[x] != Color::Dark {
                x += 1;
                continue;
            }
            let start = x;
            while x < row.len() && row[x] == Color::Dark {
                x += 1;
            }
            svg.push_str(&format!(
                "M{} {}h{}v1h-{}z",
                start + QUIET_ZONE,
                y + QUIET_ZONE,
                x - start,
                x - start
            ));
        }
    }
    svg.push_str("\"/></svg>");
    Some(svg)
}

/// `text` safe inside HTML elements and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn too_long_for_a_qr_code_is_none() {
        assert!(qr_svg(&"A".repeat(5000)).is_none());
        assert!(qr_svg("otpauth://totp/a?secret=AA").is_some());
    }
}
