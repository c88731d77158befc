//! Time zones by IANA name for `dateInZone`/`htmlDateInZone`, read from the
//! system's zoneinfo (via jiff) as Go's `time.LoadLocation` reads it; names Go
//! cannot load fall back to UTC, as Sprig does.

use super::dates::Zone;

/// The zone `name` is in at `unix_nanos`: its offset and abbreviation.
pub fn at(name: &str, unix_nanos: i128) -> Zone {
    // "" and "UTC" are Go's UTC; "Local" is the local zone, UTC here.
    if matches!(name, "" | "UTC" | "Local") {
        return Zone::utc();
    }
    // Go refuses relative paths; jiff matches names case-insensitively where
    // Go opens files by their exact name.
    if name.contains("..") || name.starts_with('/') || name.contains('\\') {
        return Zone::utc();
    }
    let Ok(tz) = jiff::tz::TimeZone::get(name) else {
        return Zone::utc();
    };
    if tz.iana_name() != Some(name) {
        return Zone::utc();
    }
    let Ok(instant) = jiff::Timestamp::from_nanosecond(unix_nanos) else {
        return Zone::utc();
    };
    let info = tz.to_offset_info(instant);
    Zone {
        offset: i64::from(info.offset().seconds()),
        name: info.abbreviation().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_by_name_like_go() {
        // 2021-07-01T00:00:00Z: summer time in Berlin.
        let t = 1_625_097_600_000_000_000i128;
        assert_eq!(
            at("Europe/Berlin", t),
            Zone {
                offset: 7200,
                name: "CEST".into()
            }
        );
        assert_eq!(at("europe/berlin", t), Zone::utc());
        assert_eq!(at("Nowhere/Special", t), Zone::utc());
        assert_eq!(at("../etc/passwd", t), Zone::utc());
    }
}
