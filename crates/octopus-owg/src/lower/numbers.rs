//! Numbers and units: a written number converted to base units and checked against the
//! dimension its parameter expects, and the constant forms (whole numbers, probabilities).

use std::fmt;

use crate::diagnostics::{Kind, num};
use crate::ir::{Dimension, Span};
use crate::parser::Value;
use crate::units;

use super::Cx;

/// The largest whole number a count may hold exactly (2^53).
pub(super) const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// What a number means where it is written.
#[derive(Clone, Copy)]
pub(super) struct Param<'s> {
    /// How diagnostics name it: "`m`", "`count`".
    pub name: &'s str,
    pub dimension: Dimension,
    pub integer: bool,
    /// Whether 0 is allowed (`context`, `bytes`, counts of loops and maps).
    pub allow_zero: bool,
    /// Whether it must be a constant.
    pub constant: bool,
}

impl Cx<'_, '_> {
    /// A number in base units, checked against the dimension (unit conversion, warnings for bare
    /// times and rates). `None` after reporting an error.
    pub(super) fn number(
        &mut self,
        value: &Value<'_>,
        dimension: Dimension,
        what: &dyn fmt::Display,
    ) -> Option<f64> {
        let Value::Number { value: x, number, unit, span } = value else {
            self.report(
                Kind::BadValue,
                value.span(),
                format!("expected a number for {what}, found {}", value.describe()),
                "not a number",
                format!("write {}, e.g. {}", dimension.describe(), example(dimension)),
            );
            return None;
        };
        let span = *span;
        if !x.is_finite() {
            self.out_of_range(*number);
            return None;
        }
        let factor = match unit {
            None => {
                if matches!(dimension, Dimension::Time | Dimension::Rate) {
                    let (unit, meaning) =
                        if dimension == Dimension::Time { ("s", "seconds") } else { ("/s", "per second") };
                    self.report(
                        Kind::BareNumber,
                        span,
                        format!("a bare number for {what}, {}, is taken as {meaning}", dimension.describe()),
                        "no unit",
                        format!("write the unit, e.g. `{}{unit}`", num(*x)),
                    );
                }
                1.0
            }
            Some(u) => match units::lookup(u.text) {
                None => {
                    let help = match units::near_miss(u.text) {
                        Some(s) => format!(
                            "did you mean `{s}`? units of {}: {}",
                            dimension.describe(),
                            units::units_of(dimension)
                        ),
                        None => format!("units of {}: {}", noun(dimension), units::units_of(dimension)),
                    };
                    self.report(
                        Kind::UnknownUnit,
                        u.span,
                        format!("unknown unit `{}`", u.text),
                        "unknown unit",
                        help,
                    );
                    return None;
                }
                Some((d, f)) if d == dimension => f,
                Some((d, _)) => {
                    let help = if dimension == Dimension::Ratio {
                        format!("{what} is a plain number: remove the unit")
                    } else {
                        format!("units of {}: {}", noun(dimension), units::units_of(dimension))
                    };
                    self.report(
                        Kind::UnitMismatch,
                        u.span,
                        format!(
                            "{what} is {}, but `{}` is a unit of {}",
                            dimension.describe(),
                            u.text,
                            d.describe()
                        ),
                        &format!("a unit of {}", d.describe()),
                        help,
                    );
                    return None;
                }
            },
        };
        let v = x * factor;
        if !v.is_finite() {
            self.out_of_range(span);
            return None;
        }
        Some(v)
    }

    fn out_of_range(&mut self, at: Span) {
        self.report(
            Kind::BadNumber,
            at,
            "this number is out of range".into(),
            "too large for a 64-bit float",
            "numbers must stay below about 1.8e308".into(),
        );
    }

    /// A constant whole number (a bound or a request count).
    pub(super) fn whole(&mut self, value: &Value<'_>, what: &dyn fmt::Display) -> Option<f64> {
        if let Value::Call(c) = value {
            self.report(
                Kind::ShapeMismatch,
                c.span,
                format!("{what} must be a constant, not a distribution"),
                "a distribution",
                format!("write a single whole number for {what}"),
            );
            return None;
        }
        let v = self.number(value, Dimension::Count, what)?;
        if v.fract() != 0.0 || v.abs() > MAX_EXACT {
            self.report(
                Kind::BadValue,
                value.span(),
                format!("{what} must be a whole number, found {}", num(v)),
                "not a whole number",
                format!("write {what} as a whole number below 2^53"),
            );
            return None;
        }
        Some(v)
    }

    /// A constant probability in `[0, 1]`.
    pub(super) fn probability(&mut self, value: &Value<'_>, what: &dyn fmt::Display) -> Option<f64> {
        if let Value::Call(c) = value {
            self.report(
                Kind::ShapeMismatch,
                c.span,
                format!("{what} must be a constant probability, not a distribution"),
                "a distribution",
                "write a number between 0 and 1".into(),
            );
            return None;
        }
        let p = self.number(value, Dimension::Ratio, what)?;
        if !(0.0..=1.0).contains(&p) {
            self.report(
                Kind::InvalidProbability,
                value.span(),
                format!("{what} is {}, outside [0, 1]", num(p)),
                "not a probability",
                "a probability is between 0 and 1".into(),
            );
            return None;
        }
        Some(p)
    }
}

/// The dimension as the object of "a unit of ...".
fn noun(d: Dimension) -> &'static str {
    match d {
        Dimension::Count => "count",
        Dimension::Bytes => "size",
        Dimension::Time => "time",
        Dimension::Rate => "rate",
        Dimension::Ratio => "plain numbers",
    }
}

/// How a message asks for a value: "0 or more" or "positive".
pub(super) fn positive(allow_zero: bool) -> &'static str {
    if allow_zero { "0 or more" } else { "positive" }
}

/// A value of the dimension, as help texts show one.
fn example(d: Dimension) -> &'static str {
    match d {
        Dimension::Count => "`4K`",
        Dimension::Bytes => "`16 KiB`",
        Dimension::Time => "`20 ms`",
        Dimension::Rate => "`2/s`",
        Dimension::Ratio => "`0.5`",
    }
}
