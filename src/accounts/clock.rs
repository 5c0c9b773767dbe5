//! UTC time as the database stores it (timestamps without zone, always UTC).

use time::{OffsetDateTime, PrimitiveDateTime};

/// Now, in UTC, truncated to whole seconds so that every backend round-trips it exactly.
pub fn now() -> PrimitiveDateTime {
    let now = OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    PrimitiveDateTime::new(now.date(), now.time())
}

/// RFC 3339 with a `Z`, the form the API shows.
pub fn rfc3339(at: PrimitiveDateTime) -> String {
    at.assume_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `2026-11-26 12:55` (UTC), the form pages show.
pub fn display(at: PrimitiveDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}
