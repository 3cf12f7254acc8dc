//! Units: each suffix with its dimension and its factor to base units (counts, bytes, seconds, per second).

use crate::ir::Dimension;

/// `(suffix, dimension, factor)`, in documentation order.
pub(crate) const UNITS: &[(&str, Dimension, f64)] = &[
    ("K", Dimension::Count, 1e3),
    ("M", Dimension::Count, 1e6),
    ("G", Dimension::Count, 1e9),
    ("T", Dimension::Count, 1e12),
    ("B", Dimension::Bytes, 1.0),
    ("KB", Dimension::Bytes, 1e3),
    ("MB", Dimension::Bytes, 1e6),
    ("GB", Dimension::Bytes, 1e9),
    ("TB", Dimension::Bytes, 1e12),
    ("KiB", Dimension::Bytes, 1024.0),
    ("MiB", Dimension::Bytes, 1_048_576.0),
    ("GiB", Dimension::Bytes, 1_073_741_824.0),
    ("TiB", Dimension::Bytes, 1_099_511_627_776.0),
    ("ns", Dimension::Time, 1e-9),
    ("us", Dimension::Time, 1e-6),
    ("ms", Dimension::Time, 1e-3),
    ("s", Dimension::Time, 1.0),
    ("min", Dimension::Time, 60.0),
    ("h", Dimension::Time, 3600.0),
    ("/s", Dimension::Rate, 1.0),
    ("/ms", Dimension::Rate, 1e3),
    ("/us", Dimension::Rate, 1e6),
    ("/min", Dimension::Rate, 1.0 / 60.0),
    ("/h", Dimension::Rate, 1.0 / 3600.0),
];

/// The dimension and factor of a unit as written (`/ s` and `/s` are the same unit).
pub(crate) fn lookup(unit: &str) -> Option<(Dimension, f64)> {
    let compact: String = unit.chars().filter(|c| !c.is_whitespace()).collect();
    UNITS.iter().find(|(u, _, _)| *u == compact).map(|&(_, d, f)| (d, f))
}

/// The units of a dimension, as a list for help texts: "`B`, `KB`, ...".
pub(crate) fn units_of(dimension: Dimension) -> String {
    let list: Vec<String> =
        UNITS.iter().filter(|(_, d, _)| *d == dimension).map(|(u, _, _)| format!("`{u}`")).collect();
    if list.is_empty() { "no unit".to_owned() } else { list.join(", ") }
}

/// A unit that a person would recognise although it is not one of ours, with the right spelling.
pub(crate) fn near_miss(unit: &str) -> Option<&'static str> {
    let lower = unit.to_ascii_lowercase();
    UNITS.iter().map(|(u, _, _)| *u).find(|u| u.to_ascii_lowercase() == lower).or(match lower.as_str() {
        "sec" | "secs" | "second" | "seconds" => Some("s"),
        "mins" | "minute" | "minutes" => Some("min"),
        "hr" | "hrs" | "hour" | "hours" => Some("h"),
        "µs" | "usec" => Some("us"),
        "msec" => Some("ms"),
        "k" => Some("K"),
        "bytes" | "byte" => Some("B"),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_resolve() {
        assert_eq!(lookup("KiB"), Some((Dimension::Bytes, 1024.0)));
        assert_eq!(lookup("/ min"), Some((Dimension::Rate, 1.0 / 60.0)));
        assert_eq!(lookup("kib"), None);
        assert_eq!(near_miss("kib"), Some("KiB"));
        assert_eq!(near_miss("seconds"), Some("s"));
    }
}
