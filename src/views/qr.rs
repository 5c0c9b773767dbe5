//! A QR code as inline SVG, rendered on the server (no JavaScript, no image request): the
//! `otpauth://` URI of a new authenticator and a reset or set-up link use it. The `qrcode`
//! crate does the encoding (error correction, masking); the SVG has presentation attributes
//! only, so the strict CSP (no inline style) holds.

use maud::{Markup, PreEscaped, html};
use qrcode::QrCode;
use qrcode::render::svg;

/// The QR code of `text`, labelled for assistive technology with `label`. `None` when the
/// text is too long for a QR code (it never is for a link or an `otpauth://` URI).
pub fn qr_svg(text: &str, label: &str) -> Option<Markup> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let svg = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    // The renderer starts with an XML declaration; inline SVG in HTML starts at `<svg`.
    let start = svg.find("<svg")?;
    let svg = svg[start..].replacen("<svg", r#"<svg class="qr" role="img" focusable="false""#, 1);
    let title = html! { title { (label) } }.into_string();
    let svg = svg.replacen('>', &format!(">{title}"), 1);
    Some(html! { figure class="qr-code" { (PreEscaped(svg)) } })
}

#[cfg(test)]
mod tests {
    use super::qr_svg;

    #[test]
    fn renders_an_svg_with_its_label_and_no_inline_style() {
        let markup = qr_svg(
            "otpauth://totp/passgate:alice?secret=JBSWY3DPEHPK3PXP",
            "Scan <me>",
        )
        .expect("short text fits")
        .into_string();
        assert!(markup.contains("<svg class=\"qr\""), "{markup}");
        assert!(
            markup.contains("<title>Scan &lt;me&gt;</title>"),
            "{markup}"
        );
        assert!(!markup.contains("<?xml"));
        assert!(
            !markup.contains("style="),
            "CSP forbids inline style: {markup}"
        );
    }

    #[test]
    fn too_long_text_has_no_code() {
        assert!(qr_svg(&"x".repeat(8000), "label").is_none());
    }
}
