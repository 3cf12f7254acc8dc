//! Just enough CSV for traces: a header row, comma-separated fields, double-quoted fields with `""`
//! escapes, and two kinds of cells: numbers and timestamps `YYYY-MM-DD hh:mm:ss[.frac]`.

/// A parsed CSV file.
#[derive(Debug)]
pub(crate) struct Table {
    header: Vec<String>,
    /// Each data row with its 1-based line number.
    rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    /// Parses a file. Blank lines are skipped; a file without a header row is an error.
    pub fn parse(text: &str) -> Result<Table, String> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let Some((_, header)) = lines.next() else {
            return Err("the file is empty: expected a header row".to_owned());
        };
        let header = split(header).into_iter().map(|h| h.trim().to_owned()).collect();
        let rows = lines.map(|(i, l)| (i + 1, split(l))).collect();
        Ok(Table { header, rows })
    }

    /// The header's names, for help texts.
    pub fn columns(&self) -> &[String] {
        &self.header
    }

    /// The cells of column `name`, each with its line number; `Err(line)` for a row without that field.
    pub fn column(&self, name: &str) -> Option<Result<Vec<(usize, &str)>, usize>> {
        let i = self.header.iter().position(|h| h == name)?;
        Some(
            self.rows
                .iter()
                .map(|(line, cells)| cells.get(i).map(|c| (*line, c.trim())).ok_or(*line))
                .collect(),
        )
    }
}

fn split(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// A cell as a number.
pub(crate) fn number(cell: &str) -> Option<f64> {
    cell.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// A cell as a time: plain seconds, or a timestamp `YYYY-MM-DD hh:mm:ss[.frac]` (also with `T`
/// between date and time) as whole seconds since 1970-01-01 and a fraction, kept apart so that
/// differences keep sub-microsecond precision.
pub(crate) fn time(cell: &str) -> Option<(i64, f64)> {
    if let Some(x) = number(cell) {
        return Some((x.floor() as i64, x - x.floor()));
    }
    let (date, clock) = cell.split_once([' ', 'T'])?;
    let mut d = date.split('-');
    let (y, m, day) = (d.next()?, d.next()?, d.next()?);
    if d.next().is_some() || y.len() != 4 || m.len() != 2 || day.len() != 2 {
        return None;
    }
    let (y, m, day) = (digits(y)?, digits(m)?, digits(day)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let (hms, frac) = match clock.split_once('.') {
        Some((hms, frac)) => (hms, frac),
        None => (clock, ""),
    };
    let mut t = hms.split(':');
    let (hh, mm, ss) = (t.next()?, t.next()?, t.next()?);
    if t.next().is_some() || hh.len() != 2 || mm.len() != 2 || ss.len() != 2 {
        return None;
    }
    let (hh, mm, ss) = (digits(hh)?, digits(mm)?, digits(ss)?);
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let frac = if frac.is_empty() {
        0.0
    } else if frac.bytes().all(|b| b.is_ascii_digit()) {
        format!("0.{frac}").parse::<f64>().ok()?
    } else {
        return None;
    };
    let days = days_from_civil(y, m, day);
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss, frac))
}

fn digits(s: &str) -> Option<i64> {
    if s.bytes().all(|b| b.is_ascii_digit()) { s.parse().ok() } else { None }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        let (a, fa) = time("2023-11-16 18:15:46.6805900").unwrap();
        let (b, fb) = time("2023-11-16 18:15:50.9951690").unwrap();
        assert!(((b - a) as f64 + fb - fa - 4.314_579).abs() < 1e-9);
        let (c, _) = time("2023-11-17 00:00:00").unwrap();
        assert_eq!(c - time("2023-11-16 23:59:59").unwrap().0, 1);
        assert_eq!(time("12.5"), Some((12, 0.5)));
        assert_eq!(time("2023-13-01 00:00:00"), None);
        assert_eq!(time("yesterday"), None);
    }

    #[test]
    fn quoted_fields_and_missing_cells() {
        let t = Table::parse("a,\"b,c\"\n1,\"2,\"\"x\"\"\"\n\n3\n").unwrap();
        assert_eq!(t.columns(), ["a", "b,c"]);
        assert_eq!(t.column("b,c").unwrap(), Err(4));
        assert_eq!(t.column("a").unwrap().unwrap(), vec![(2, "1"), (4, "3")]);
        assert!(t.column("z").is_none());
    }
}
