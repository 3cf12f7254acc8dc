//! Arrivals: the `arrivals` statement's process (`poisson`, `batch`, or `replay` of a CSV column
//! of times) and its request count.

use crate::csv;
use crate::diagnostics::{Kind, num};
use crate::ir::{Arrivals, Dimension, Span};
use crate::parser::{Arg, Call, Value};

use super::Cx;
use super::names::{list, suggest};
use super::numbers::Param;

/// The arrival processes, in the order help texts list them.
const PROCESSES: [&str; 3] = ["poisson", "batch", "replay"];

impl Cx<'_, '_> {
    /// The arrival process of an `arrivals` statement.
    pub(super) fn arrivals(&mut self, call: &Call<'_>) -> Option<Arrivals> {
        match call.name.text {
            "poisson" => self.poisson(call),
            "batch" => self.batch(call),
            "replay" => self.replay(call),
            other => {
                let help = match suggest(other, PROCESSES.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`? arrival processes: {}", list(&PROCESSES)),
                    None => format!("arrival processes: {}", list(&PROCESSES)),
                };
                self.report(
                    Kind::UnknownArrivals,
                    call.name.span,
                    format!("unknown arrival process `{other}`"),
                    "not an arrival process",
                    help,
                );
                None
            }
        }
    }

    /// `poisson(rate, requests = 1000)`: a constant rate.
    fn poisson(&mut self, call: &Call<'_>) -> Option<Arrivals> {
        let (slots, rejected) = self.bind(&call.args, &["rate", "requests"], 2, &"`poisson`");
        let rate = match slots[0] {
            None => {
                self.missing(
                    rejected,
                    call.name.span,
                    "rate",
                    &"`poisson`",
                    "requests per unit of time, e.g. `2/s`",
                );
                None
            }
            Some(a) => self.dist(
                &a.value,
                Param {
                    name: "rate",
                    dimension: Dimension::Rate,
                    integer: false,
                    allow_zero: false,
                    constant: true,
                },
            ),
        };
        let requests = self.requests(slots[1], Some(1000));
        match (rate, requests) {
            (Some(rate), Some(Some(requests))) => Some(Arrivals::Poisson { rate: rate.mean(), requests }),
            _ => None,
        }
    }

    /// `batch(requests)`: every request present at time 0.
    fn batch(&mut self, call: &Call<'_>) -> Option<Arrivals> {
        let (slots, rejected) = self.bind(&call.args, &["requests"], 1, &"`batch`");
        if slots[0].is_none() {
            self.missing(
                rejected,
                call.name.span,
                "requests",
                &"`batch`",
                "how many requests are present at time 0",
            );
            return None;
        }
        self.requests(slots[0], Some(1))?.map(|requests| Arrivals::Batch { requests })
    }

    /// `replay(file, column = "TIMESTAMP", requests = all)`: the first `requests` times of a CSV
    /// column, made relative to the earliest and sorted.
    fn replay(&mut self, call: &Call<'_>) -> Option<Arrivals> {
        let (slots, rejected) = self.bind(&call.args, &["file", "column", "requests"], 3, &"`replay`");
        let requests = self.requests(slots[2], None);
        let file = match slots[0] {
            None => {
                self.missing(rejected, call.name.span, "file", &"`replay`", "a CSV file of arrival times");
                None
            }
            Some(a) => self.string(a, "file"),
        };
        let column = match slots[1] {
            None => Some(("TIMESTAMP".to_owned(), None)),
            Some(a) => self.string(a, "column").map(|(c, s)| (c, Some(s))),
        };
        let ((file, file_span), (column, column_span), requests) = (file?, column?, requests?);
        let column_span = column_span.unwrap_or(file_span);
        let cells = self.column(&file, file_span, &column, column_span)?;
        let take = requests.map_or(cells.len(), |r| (r as usize).min(cells.len()));
        let mut raw = Vec::with_capacity(take);
        for (line, cell) in cells.into_iter().take(take) {
            match csv::time(&cell) {
                Some(t) => raw.push(t),
                None => {
                    self.report(
                        Kind::Csv,
                        column_span,
                        format!("`{file}` line {line}: `{column}` holds `{cell}`, not a time"),
                        "bad time in this column",
                        "times are seconds (`12.5`) or timestamps `YYYY-MM-DD hh:mm:ss[.frac]`".into(),
                    );
                    return None;
                }
            }
        }
        let Some(&first) = raw.iter().min_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1))) else {
            self.report(
                Kind::Csv,
                column_span,
                format!("`{file}` has no rows: no arrival to replay"),
                "empty column",
                "a replayed trace needs at least one arrival".into(),
            );
            return None;
        };
        let mut times: Vec<f64> =
            raw.into_iter().map(|(s, f)| s.saturating_sub(first.0) as f64 + (f - first.1)).collect();
        times.sort_by(f64::total_cmp);
        Some(Arrivals::Replay { source: format!("{file}#{column}"), times })
    }

    /// `requests = N` (or `all`, where `default` is `None`).
    fn requests(&mut self, slot: Option<&Arg<'_>>, default: Option<u64>) -> Option<Option<u64>> {
        let Some(a) = slot else { return Some(default) };
        if let Value::Name(n) = &a.value
            && n.text == "all"
            && default.is_none()
        {
            return Some(None);
        }
        let v = self.whole(&a.value, &"`requests`")?;
        if v < 1.0 {
            self.report(
                Kind::NonPositive,
                a.value.span(),
                format!("`requests` must be at least 1, found {}", num(v)),
                "not positive",
                "simulate at least one request".into(),
            );
            return None;
        }
        Some(Some(v as u64))
    }

    /// A string argument (`file`, `column`).
    fn string(&mut self, arg: &Arg<'_>, what: &str) -> Option<(String, Span)> {
        match &arg.value {
            Value::Str { text, span } => Some((text.clone(), *span)),
            v => {
                self.report(
                    Kind::BadValue,
                    v.span(),
                    format!("expected a string for `{what}`, found {}", v.describe()),
                    "not a string",
                    format!("write `{what}` in double quotes"),
                );
                None
            }
        }
    }
}
