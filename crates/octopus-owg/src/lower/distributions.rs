//! Distributions: a parameter's value (a number or a distribution call) checked for sign and
//! shape, one function per distribution family, and the argument checks they share.

use crate::csv;
use crate::diagnostics::{Kind, num};
use crate::dist::{Dist, normal_cdf};
use crate::ir::{Dimension, Span};
use crate::parser::{Arg, Call, Value};

use super::Cx;
use super::names::{Quoted, list, suggest};
use super::numbers::{MAX_EXACT, Param, positive};

/// The distribution families, as `.owg` files call them.
#[derive(Clone, Copy, PartialEq)]
enum Family {
    Const,
    Uniform,
    Normal,
    LogNormal,
    Exponential,
    Choice,
    Empirical,
}

/// The kinds of argument of a distribution.
#[derive(Clone, Copy, PartialEq)]
enum DistArg {
    /// In the units of the parameter.
    Value,
    /// A plain number (coefficient of variation).
    Ratio,
    /// A string (file, column).
    Str,
}

impl Family {
    /// Every family, in the order help texts list them.
    const ALL: [Family; 7] = [
        Family::Const,
        Family::Uniform,
        Family::Normal,
        Family::LogNormal,
        Family::Exponential,
        Family::Choice,
        Family::Empirical,
    ];

    fn name(self) -> &'static str {
        match self {
            Family::Const => "const",
            Family::Uniform => "uniform",
            Family::Normal => "normal",
            Family::LogNormal => "lognormal",
            Family::Exponential => "exponential",
            Family::Choice => "choice",
            Family::Empirical => "empirical",
        }
    }

    /// Its arguments, in positional order (`choice` takes weighted values instead).
    fn params(self) -> &'static [(&'static str, DistArg)] {
        match self {
            Family::Const => &[("x", DistArg::Value)],
            Family::Uniform => &[("lo", DistArg::Value), ("hi", DistArg::Value)],
            Family::Normal | Family::LogNormal => &[("mean", DistArg::Value), ("cv", DistArg::Ratio)],
            Family::Exponential => &[("mean", DistArg::Value)],
            Family::Choice => &[],
            Family::Empirical => &[("file", DistArg::Str), ("column", DistArg::Str)],
        }
    }
}

/// The checked arguments of a distribution call, one entry per argument of its family.
struct DistArgs {
    /// Numbers in base units (NaN for strings and missing arguments).
    values: Vec<f64>,
    /// Strings and where they were written (`None` for numbers and missing arguments).
    strings: Vec<Option<(String, Span)>>,
    /// Where each argument's value was written (the whole call for a missing one).
    spans: Vec<Span>,
    /// Whether an argument was misplaced (see `Cx::missing`).
    rejected: bool,
}

impl Cx<'_, '_> {
    /// A parameter's value: a number or a distribution, checked for sign and shape.
    pub(super) fn dist(&mut self, value: &Value<'_>, p: Param<'_>) -> Option<Dist> {
        let what = Quoted("", p.name);
        let dist = match value {
            Value::Call(call) => self.dist_call(call, p)?,
            _ => Dist::Const(self.number(value, p.dimension, &what)?),
        };
        let written = dist.mean();
        let dist = if p.integer { round_dist(dist) } else { dist };
        if p.constant && !dist.is_const() {
            self.report(
                Kind::ShapeMismatch,
                value.span(),
                format!("{what} must be a constant, not a distribution"),
                "a distribution",
                format!("write a single number for {what}"),
            );
            return None;
        }
        // Keep constant-valued distributions in their simplest form.
        let dist =
            if dist.is_const() && !matches!(dist, Dist::Const(_)) { Dist::Const(dist.mean()) } else { dist };
        self.sign(dist, written, value.span(), p)
    }

    /// `dist` unless its values break the parameter's sign (negative, or zero where not allowed).
    fn sign(&mut self, dist: Dist, written: f64, at: Span, p: Param<'_>) -> Option<Dist> {
        let what = Quoted("", p.name);
        if let Dist::Const(c) = dist {
            if c < 0.0 || (c == 0.0 && !p.allow_zero) {
                let rounds =
                    if written != c { format!(" (rounded from {})", num(written)) } else { String::new() };
                self.report(
                    Kind::NonPositive,
                    at,
                    format!("{what} must be {}, found {}{rounds}", positive(p.allow_zero), num(c)),
                    if c < 0.0 { "negative" } else { "zero" },
                    if p.allow_zero {
                        format!("{what} is {}: 0 or more", p.dimension.describe())
                    } else {
                        format!("{what} is {}: give it a value above zero", p.dimension.describe())
                    },
                );
                return None;
            }
        } else if dist.upper() <= 0.0 && !p.allow_zero {
            self.report(
                Kind::NonPositive,
                at,
                format!("{what} must be positive, but every draw of this distribution is 0"),
                "always 0",
                format!("{what} is {}: give it values above zero", p.dimension.describe()),
            );
            return None;
        }
        Some(dist)
    }

    fn dist_call(&mut self, call: &Call<'_>, p: Param<'_>) -> Option<Dist> {
        let Some(family) = Family::ALL.into_iter().find(|f| f.name() == call.name.text) else {
            let names: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
            let help = match suggest(call.name.text, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? distributions: {}", list(&names)),
                None => format!("distributions: {}", list(&names)),
            };
            self.report(
                Kind::UnknownDistribution,
                call.name.span,
                format!("unknown distribution `{}`", call.name.text),
                "not a distribution",
                help,
            );
            return None;
        };
        if family == Family::Choice {
            return self.choice(call, p);
        }
        let args = self.dist_args(call, family, p)?;
        match family {
            Family::Const => Some(Dist::Const(args.values[0])),
            Family::Uniform => self.uniform(call, &args, p),
            Family::Normal | Family::LogNormal => self.normal(call, family, &args),
            Family::Exponential => self.exponential(&args),
            Family::Empirical => self.empirical(call, &args),
            Family::Choice => unreachable!("`choice` takes weighted values, handled above"),
        }
    }

    /// Binds and checks the arguments of a call of `family`: strings where it takes strings,
    /// numbers in the right dimension elsewhere. `None` after reporting every problem.
    fn dist_args(&mut self, call: &Call<'_>, family: Family, p: Param<'_>) -> Option<DistArgs> {
        let specs = family.params();
        let owner = Quoted("", family.name());
        let names: Vec<&str> = specs.iter().map(|(n, _)| *n).collect();
        let (slots, rejected) = self.bind(&call.args, &names, names.len(), &owner);
        let mut args = DistArgs {
            values: Vec::with_capacity(specs.len()),
            strings: Vec::with_capacity(specs.len()),
            spans: slots.iter().map(|s| s.map_or(call.span, |a| a.value.span())).collect(),
            rejected,
        };
        let mut ok = true;
        for (&(pname, kind), slot) in specs.iter().zip(&slots) {
            let (value, string) = match slot {
                // `empirical`'s column is reported missing only once the file checks out.
                None if family == Family::Empirical && pname == "column" => (Some(f64::NAN), None),
                None => {
                    self.missing(rejected, call.name.span, pname, &owner, "");
                    (None, None)
                }
                Some(arg) if kind == DistArg::Str => match self.dist_string(arg, pname, &owner) {
                    Some(s) => (Some(f64::NAN), Some(s)),
                    None => (None, None),
                },
                Some(arg) => (self.dist_number(arg, pname, kind, &owner, p), None),
            };
            ok &= value.is_some();
            args.values.push(value.unwrap_or(f64::NAN));
            args.strings.push(string);
        }
        ok.then_some(args)
    }

    /// A string argument (a file or a column).
    fn dist_string(&mut self, arg: &Arg<'_>, pname: &str, owner: &Quoted<'_>) -> Option<(String, Span)> {
        match &arg.value {
            Value::Str { text, span } => Some((text.clone(), *span)),
            v => {
                self.report(
                    Kind::BadValue,
                    v.span(),
                    format!("expected a string for `{pname}` of {owner}, found {}", v.describe()),
                    "not a string",
                    format!("write `{pname}` in double quotes, e.g. \"trace.csv\""),
                );
                None
            }
        }
    }

    /// A number argument: in the parameter's dimension, or plain for a ratio. Distributions do not nest.
    fn dist_number(
        &mut self,
        arg: &Arg<'_>,
        pname: &str,
        kind: DistArg,
        owner: &Quoted<'_>,
        p: Param<'_>,
    ) -> Option<f64> {
        let dim = if kind == DistArg::Ratio { Dimension::Ratio } else { p.dimension };
        if let Value::Call(c) = &arg.value {
            self.report(
                Kind::BadValue,
                c.span,
                format!("the arguments of {owner} are numbers, not distributions"),
                "a distribution",
                "distributions do not nest: write a number".into(),
            );
            return None;
        }
        self.number(&arg.value, dim, &format_args!("`{pname}` of {owner}"))
    }

    /// `uniform(lo, hi)`: a non-empty, non-negative range; whole numbers in it for an integer parameter.
    fn uniform(&mut self, call: &Call<'_>, args: &DistArgs, p: Param<'_>) -> Option<Dist> {
        let (lo, hi) = (args.values[0], args.values[1]);
        if lo > hi {
            self.report(
                Kind::BadDistribution,
                call.span,
                format!("`uniform` needs `lo <= hi`, found {} > {}", num(lo), num(hi)),
                "empty range",
                "swap the bounds".into(),
            );
            return None;
        }
        if lo < 0.0 {
            self.report(
                Kind::NonPositive,
                args.spans[0],
                format!("`uniform` for `{}` can draw negative values", p.name),
                "negative",
                format!("`{}` cannot be negative: make `lo` at least 0", p.name),
            );
            return None;
        }
        if p.integer && hi <= MAX_EXACT {
            let (l, h) = (lo.ceil(), hi.floor());
            if l > h {
                self.report(
                    Kind::BadDistribution,
                    call.span,
                    format!(
                        "`uniform({}, {})` holds no whole number, and `{}` is a whole number",
                        num(lo),
                        num(hi),
                        p.name
                    ),
                    "no whole number",
                    "widen the range to include a whole number".into(),
                );
                return None;
            }
            return Some(Dist::UniformInt { lo: l as i64, hi: h as i64 });
        }
        Some(Dist::Uniform { lo, hi })
    }

    /// `normal(mean, cv)` and `lognormal(mean, cv)`: a positive mean, a non-negative `cv`; a
    /// warning when much of a normal lies below 0.
    fn normal(&mut self, call: &Call<'_>, family: Family, args: &DistArgs) -> Option<Dist> {
        let name = family.name();
        let (mean, cv) = (args.values[0], args.values[1]);
        if mean <= 0.0 {
            self.report(
                Kind::BadDistribution,
                args.spans[0],
                format!("the mean of `{name}` must be positive, found {}", num(mean)),
                "not positive",
                "a mean and a coefficient of variation describe positive quantities".into(),
            );
            return None;
        }
        if cv < 0.0 {
            self.report(
                Kind::BadDistribution,
                args.spans[1],
                format!("the coefficient of variation of `{name}` cannot be negative, found {}", num(cv)),
                "negative",
                "`cv` is the standard deviation over the mean: 0 or more".into(),
            );
            return None;
        }
        if family == Family::LogNormal {
            return Some(Dist::LogNormal { mean, cv });
        }
        let below = if cv > 0.0 { normal_cdf(-1.0 / cv) } else { 0.0 };
        if below > 0.001 {
            self.report(
                Kind::NormalNegative,
                call.span,
                format!(
                    "{}% of this normal distribution lies below 0; those draws are clamped to 0",
                    num((below * 1000.0).round() / 10.0)
                ),
                "much mass below 0",
                "use `lognormal(mean, cv)` for a positive quantity with a large spread".into(),
            );
        }
        Some(Dist::Normal { mean, cv })
    }

    /// `exponential(mean)`: a positive mean.
    fn exponential(&mut self, args: &DistArgs) -> Option<Dist> {
        let mean = args.values[0];
        if mean <= 0.0 {
            self.report(
                Kind::BadDistribution,
                args.spans[0],
                format!("the mean of `exponential` must be positive, found {}", num(mean)),
                "not positive",
                "give a mean above zero".into(),
            );
            return None;
        }
        Some(Dist::Exponential { mean })
    }

    /// `empirical(file, column)`: the non-empty column of non-negative numbers of a CSV file.
    fn empirical(&mut self, call: &Call<'_>, args: &DistArgs) -> Option<Dist> {
        let (file, file_span) = args.strings[0].clone().expect("checked by dist_args");
        let Some((column, column_span)) = args.strings[1].clone() else {
            let owner = Quoted("", Family::Empirical.name());
            self.missing(args.rejected, call.name.span, "column", &owner, "the CSV column to draw from");
            return None;
        };
        let cells = self.column(&file, file_span, &column, column_span)?;
        let mut out = Vec::with_capacity(cells.len());
        for (line, cell) in cells {
            match csv::number(&cell) {
                Some(v) if v >= 0.0 => out.push(v),
                _ => {
                    self.report(
                        Kind::Csv,
                        column_span,
                        format!("`{file}` line {line}: `{column}` holds `{cell}`, not a number of 0 or more"),
                        "bad value in this column",
                        "an empirical column holds plain numbers in base units (counts, bytes, seconds)"
                            .into(),
                    );
                    return None;
                }
            }
        }
        if out.is_empty() {
            self.report(
                Kind::Csv,
                column_span,
                format!("`{file}` has no rows: the column `{column}` is empty"),
                "empty column",
                "an empirical distribution needs at least one value".into(),
            );
            return None;
        }
        Some(Dist::Empirical { source: format!("{file}#{column}"), values: out })
    }

    /// `choice(v1: w1, v2: w2, ...)`: non-negative values, weights normalised to sum to 1.
    fn choice(&mut self, call: &Call<'_>, p: Param<'_>) -> Option<Dist> {
        let mut items = Vec::new();
        let mut ok = true;
        for arg in &call.args.items {
            match self.choice_item(arg, p) {
                Some(item) => items.push(item),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        let total: f64 = items.iter().map(|(_, w)| w).sum();
        if !(total > 0.0 && total.is_finite()) {
            self.report(
                Kind::BadDistribution,
                call.span,
                "the weights of `choice` sum to 0".into(),
                "no weight",
                "give at least one value a positive weight, e.g. `choice(2: 0.7, 4: 0.3)`".into(),
            );
            return None;
        }
        Some(Dist::Choice(items.into_iter().map(|(v, w)| (v, w / total)).collect()))
    }

    /// One `value: weight` of a `choice`, before normalisation.
    fn choice_item(&mut self, arg: &Arg<'_>, p: Param<'_>) -> Option<(f64, f64)> {
        if let Some(n) = arg.name {
            self.report(
                Kind::BadArgument,
                n.span,
                "`choice` takes weighted values, not named arguments".into(),
                "a name",
                "write `choice(v1: w1, v2: w2, ...)`".into(),
            );
            return None;
        }
        let Some(w) = &arg.weight else {
            self.report(
                Kind::BadArgument,
                arg.span,
                "a value of `choice` without a weight".into(),
                "no weight",
                "write `value: weight`, e.g. `choice(2: 0.7, 4: 0.3)`".into(),
            );
            return None;
        };
        let v = self.number(&arg.value, p.dimension, &Quoted("a value of ", p.name));
        let w = self.number(w, Dimension::Ratio, &"a weight of `choice`").map(|x| (x, w.span()));
        let (v, (w, wspan)) = (v?, w?);
        if w < 0.0 {
            self.report(
                Kind::BadDistribution,
                wspan,
                format!("a weight of `choice` is negative: {}", num(w)),
                "negative",
                "weights are 0 or more; they are divided by their sum".into(),
            );
            return None;
        }
        if v < 0.0 {
            self.report(
                Kind::NonPositive,
                arg.value.span(),
                format!("`{}` cannot be negative, found {}", p.name, num(v)),
                "negative",
                format!("`{}` is {}", p.name, p.dimension.describe()),
            );
            return None;
        }
        Some((v, w))
    }
}

/// For whole-number parameters: the values of discrete distributions rounded, as draws will be.
fn round_dist(d: Dist) -> Dist {
    match d {
        Dist::Const(c) => Dist::Const(c.round()),
        Dist::Choice(items) => Dist::Choice(items.into_iter().map(|(v, w)| (v.round(), w)).collect()),
        Dist::Empirical { source, values } => {
            Dist::Empirical { source, values: values.into_iter().map(f64::round).collect() }
        }
        d => d,
    }
}
