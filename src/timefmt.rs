//! RFC 3339 timestamps as Kratos clients expect them: UTC, `Z`, six fractional digits.

use serde::Serializer;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

const RFC3339_MICROS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Formats an instant as `2026-01-01T10:00:00.000000Z`.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(RFC3339_MICROS)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000000Z".to_owned())
}

pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*t))
}

/// For `Option<OffsetDateTime>` fields (`null` when absent).
pub mod option {
    use super::rfc3339;
    use serde::Serializer;
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&rfc3339(*t)),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_utc_with_six_fraction_digits() {
        assert_eq!(
            rfc3339(datetime!(2026-01-02 03:04:05.5 UTC)),
            "2026-01-02T03:04:05.500000Z"
        );
        assert_eq!(
            rfc3339(datetime!(2026-01-02 03:04:05 +02:00)),
            "2026-01-02T01:04:05.000000Z"
        );
    }
}
