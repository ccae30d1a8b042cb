//! Sizes and durations on the command line.

use std::time::Duration;

/// `67108864`, `64M`, `64MiB`, `512k`, `1G`: bytes, with suffixes that are
/// powers of 1024.
pub(crate) fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, suffix) = t.split_at(split);
    let example = "write bytes, or a number with K, M or G (KiB, MiB, GiB), e.g. 64MiB";
    if suffix.starts_with(['.', ',']) {
        return Err(fraction(text, digits, suffix));
    }
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size; {example}"))?;
    let shift = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        "kb" | "mb" | "gb" => {
            return Err(format!(
                "`{text}`: write KiB, MiB or GiB (or K, M, G); sizes are powers of 1024"
            ));
        }
        _ => return Err(format!("`{text}` has an unknown unit; {example}")),
    };
    n.checked_mul(1u64 << shift)
        .and_then(|b| usize::try_from(b).ok())
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// The refusal of `1.5G`: sizes are whole numbers; shows the same size as
/// a whole number in a smaller unit, and in bytes, when it is one.
fn fraction(text: &str, whole: &str, rest: &str) -> String {
    let frac_len = rest[1..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(rest.len() - 1, |i| i);
    let frac = &rest[1..1 + frac_len];
    let unit = rest[1 + frac_len..].trim().to_ascii_lowercase();
    let shift = match unit.as_str() {
        "k" | "kib" => 10u32,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        _ => 0,
    };
    let general = format!(
        "`{text}`: fractions are not accepted in sizes; write a whole number of bytes, \
         KiB, MiB or GiB, e.g. 1536M rather than 1.5G"
    );
    // number = (whole * 10^k + frac) / 10^k, in bytes times 2^shift.
    let Ok(k) = u32::try_from(frac.len()) else {
        return general;
    };
    let scale = 10u128.checked_pow(k);
    let whole: Option<u128> = if whole.is_empty() {
        Some(0)
    } else {
        whole.parse().ok()
    };
    let frac_value: Option<u128> = if frac.is_empty() {
        Some(0)
    } else {
        frac.parse().ok()
    };
    let bytes = (|| {
        let scale = scale?;
        let numerator = whole?.checked_mul(scale)?.checked_add(frac_value?)?;
        let scaled = numerator.checked_mul(1u128 << shift)?;
        (scaled % scale == 0).then_some(scaled / scale)
    })();
    match bytes {
        Some(bytes) if shift > 0 => {
            let (smaller, name) = match shift {
                30 => ((bytes % (1 << 20) == 0).then_some(bytes >> 20), "M"),
                20 => ((bytes % (1 << 10) == 0).then_some(bytes >> 10), "K"),
                _ => (None, ""),
            };
            match smaller {
                Some(n) => format!(
                    "`{text}`: fractions are not accepted in sizes; write a whole number: \
                     {n}{name} or {bytes} (bytes)"
                ),
                None => format!(
                    "`{text}`: fractions are not accepted in sizes; write a whole number: \
                     {bytes} (bytes)"
                ),
            }
        }
        _ => general,
    }
}

/// `500ms`, `2s`, `1.5s`, `1m`, or a bare number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let example = "write e.g. 500ms, 2s, 1.5s or 1m";
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; {example}"))?;
    let seconds = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        _ => return Err(format!("`{text}` has an unknown unit; {example}")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("`{text}` is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("64m"), Ok(64 << 20));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert!(parse_size("64MB").unwrap_err().contains("MiB"));
        assert!(parse_size("lots").unwrap_err().contains("not a size"));
        assert!(
            parse_size("3 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert_eq!(
            parse_size("1.5G").unwrap_err(),
            "`1.5G`: fractions are not accepted in sizes; write a whole number: \
             1536M or 1610612736 (bytes)"
        );
        assert!(
            parse_size("2.5M")
                .unwrap_err()
                .contains("2560K or 2621440 (bytes)")
        );
        assert!(
            parse_size("0.1K")
                .unwrap_err()
                .contains("fractions are not accepted")
        );
        assert!(
            parse_size("99999999999G")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(
            parse_duration("soon")
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(parse_duration("2h").unwrap_err().contains("unknown unit"));
    }
}
