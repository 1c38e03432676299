//! Durations (`5m`, `1h30m`) and dates (`2026-09-21 12:53:20 UTC`), without a date library.

use std::time::Duration;

/// Parses a duration: a number of seconds (`300`), or one or more `<n><unit>` parts with units
/// `s`, `m`, `h`, `d` (`90s`, `5m`, `1h30m`, `1d`). Used as a clap value parser.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration (examples: 300, 90s, 5m, 1h30m, 1d)");
    if text.is_empty() {
        return Err(bad());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map(Duration::from_secs).map_err(|_| bad());
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

/// `4m 12s`, `3h`, `2d 5h`: the two largest units, a zero second unit dropped.
pub(crate) fn human(secs: u64) -> String {
    let (big, big_unit, small, small_unit) = if secs < 60 {
        return format!("{secs}s");
    } else if secs < 3600 {
        (secs / 60, "m", secs % 60, "s")
    } else if secs < 86_400 {
        (secs / 3600, "h", secs % 3600 / 60, "m")
    } else {
        (secs / 86_400, "d", secs % 86_400 / 3600, "h")
    };
    if small == 0 {
        format!("{big}{big_unit}")
    } else {
        format!("{big}{big_unit} {small}{small_unit}")
    }
}

/// `in 4m 12s` or `3h ago` (or `now`), for an instant relative to `now`.
pub(crate) fn relative(at: u64, now: u64) -> String {
    match at.cmp(&now) {
        std::cmp::Ordering::Greater => format!("in {}", human(at - now)),
        std::cmp::Ordering::Less => format!("{} ago", human(now - at)),
        std::cmp::Ordering::Equal => "now".to_owned(),
    }
}

/// `2026-09-21 12:53:20 UTC` for seconds since the epoch (proleptic Gregorian calendar).
pub(crate) fn date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("300"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        for bad in ["", "m", "5x", "-5m", "5m3", "1.5h", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(0), "0s");
        assert_eq!(human(59), "59s");
        assert_eq!(human(252), "4m 12s");
        assert_eq!(human(300), "5m");
        assert_eq!(human(3 * 3600), "3h");
        assert_eq!(human(3 * 3600 + 120), "3h 2m");
        assert_eq!(human(2 * 86_400 + 5 * 3600 + 59), "2d 5h");
        assert_eq!(relative(1252, 1000), "in 4m 12s");
        assert_eq!(relative(1000, 1000 + 3 * 3600), "3h ago");
    }

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(date(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(date(1_790_000_000), "2026-09-21 14:13:20 UTC");
        assert_eq!(date(253_402_300_799), "9999-12-31 23:59:59 UTC");
    }
}
