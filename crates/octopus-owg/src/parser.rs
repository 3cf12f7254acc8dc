//! Text to a small syntax tree with spans. pest types never leave this module: its errors become
//! [`Diagnostic`]s with readable "expected ..." text.

use pest::Parser as _;
use pest::iterators::Pair;

use crate::diagnostics::{Diagnostic, Kind, diag};
use crate::ir::Span;

use self::reading::{OwgParser, Rule};

/// The parser that reads: punctuation is silent.
mod reading {
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar.pest"]
    #[grammar = "punctuation_silent.pest"]
    pub(super) struct OwgParser;
}

/// The same grammar with punctuation as rules, run only to describe a syntax error.
mod describing {
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar.pest"]
    #[grammar = "punctuation.pest"]
    pub(super) struct OwgParser;
}

/// Parentheses and brackets nest at most this deep; deeper input is a syntax error, so that
/// neither pest nor the lowering can exhaust the stack.
pub(crate) const MAX_NESTING: usize = 32;

/// A name as written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Name<'a> {
    pub text: &'a str,
    pub span: Span,
}

/// The kinds of control blocks that open a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpenerKind {
    Branch,
    Fork,
    Map,
    Loop,
}

impl OpenerKind {
    pub fn keyword(self) -> &'static str {
        match self {
            OpenerKind::Branch => "branch",
            OpenerKind::Fork => "fork",
            OpenerKind::Map => "map",
            OpenerKind::Loop => "loop",
        }
    }
}

/// One statement.
#[derive(Debug)]
pub(crate) enum Stmt<'a> {
    Workflow { span: Span, name: Name<'a> },
    Arrivals { span: Span, call: Call<'a> },
    Task { name: Name<'a>, call: Call<'a> },
    Control { kind: OpenerKind, name: Name<'a>, args: Option<Args<'a>>, join: Name<'a> },
    Flow { chain: Vec<Name<'a>>, attrs: Option<Args<'a>> },
}

/// `NAME(ARGS)`.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub name: Name<'a>,
    pub args: Args<'a>,
    pub span: Span,
}

/// A parenthesised or bracketed argument list.
#[derive(Debug)]
pub(crate) struct Args<'a> {
    pub items: Vec<Arg<'a>>,
}

/// `[NAME =] VALUE [: WEIGHT]`.
#[derive(Debug)]
pub(crate) struct Arg<'a> {
    pub name: Option<Name<'a>>,
    pub value: Value<'a>,
    pub weight: Option<Value<'a>>,
    pub span: Span,
}

/// A value.
#[derive(Debug)]
pub(crate) enum Value<'a> {
    Call(Call<'a>),
    /// A number with an optional unit; `value` may be infinite (`1e400`), lowering reports that.
    Number {
        value: f64,
        number: Span,
        unit: Option<Name<'a>>,
        span: Span,
    },
    Str {
        text: String,
        span: Span,
    },
    Name(Name<'a>),
}

impl Value<'_> {
    pub fn span(&self) -> Span {
        match self {
            Value::Call(c) => c.span,
            Value::Number { span, .. } | Value::Str { span, .. } => *span,
            Value::Name(n) => n.span,
        }
    }

    /// How diagnostics describe what was written.
    pub fn describe(&self) -> String {
        match self {
            Value::Call(c) => format!("the call `{}(...)`", c.name.text),
            Value::Number { .. } => "a number".into(),
            Value::Str { .. } => "a string".into(),
            Value::Name(n) => format!("the name `{}`", n.text),
        }
    }
}

/// Parses a whole file, one statement at a time. On syntax errors, returns every one found: after
/// an error, parsing resumes at the next line that starts with a statement keyword.
pub(crate) fn parse(source: &str) -> Result<Vec<Stmt<'_>>, Vec<Diagnostic>> {
    if let Some(d) = check_nesting(source) {
        return Err(vec![d]);
    }
    let mut errors = Vec::new();
    let mut stmts = Vec::new();
    // Where the next statement may start, and where the last one started (to describe an error
    // with pest's furthest attempt, which may lie in the optional tail of that statement).
    let mut offset = 0;
    let mut last_start = 0;
    loop {
        match OwgParser::parse(Rule::step, &source[offset..]) {
            Ok(pairs) => {
                let lower = Lower { offset };
                let mut done = true;
                for p in pairs {
                    if p.as_rule() == Rule::EOI {
                        break;
                    }
                    done = false;
                    let span = lower.span(&p);
                    last_start = span.start as usize;
                    offset = span.end as usize;
                    if errors.is_empty() {
                        stmts.push(lower.stmt(p));
                    }
                }
                if done {
                    break;
                }
            }
            Err(_) => {
                let (d, pos) =
                    match describing::OwgParser::parse(describing::Rule::file, &source[last_start..]) {
                        Err(e) => syntax_error(source, last_start, &e),
                        // Cannot happen: the statement at `offset` does not parse.
                        Ok(_) => (
                            diag(
                                Kind::Syntax,
                                Span::new(offset, offset),
                                "a statement that does not follow the grammar",
                                "here",
                                "see the grammar in docs/language.md",
                            ),
                            offset,
                        ),
                    };
                errors.push(d);
                match resume_point(source, pos.max(offset)) {
                    Some(next) => {
                        offset = next;
                        last_start = next;
                    }
                    None => break,
                }
            }
        }
    }
    if errors.is_empty() { Ok(stmts) } else { Err(errors) }
}

/// The start of the first line after the one holding `pos` that begins with a statement keyword.
fn resume_point(source: &str, pos: usize) -> Option<usize> {
    let mut line_start = source[pos..].find('\n')? + pos + 1;
    loop {
        let line = &source[line_start..];
        let trimmed = line.trim_start_matches([' ', '\t', '\r']);
        let word: &str =
            trimmed.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap_or("");
        if STATEMENT_KEYWORDS.contains(&word) {
            return Some(line_start);
        }
        line_start += line.find('\n')? + 1;
    }
}

const STATEMENT_KEYWORDS: [&str; 8] =
    ["workflow", "arrivals", "task", "branch", "fork", "map", "loop", "flow"];

/// Finds parentheses or brackets nested deeper than [`MAX_NESTING`], outside comments and strings.
fn check_nesting(source: &str) -> Option<Diagnostic> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = source[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 2);
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(diag(
                        Kind::Syntax,
                        Span::new(i, i + 1),
                        format!("parentheses nested more than {MAX_NESTING} deep"),
                        "too deep",
                        "no `.owg` construct nests this deep: check for unbalanced parentheses",
                    ));
                }
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn syntax_error(
    source: &str,
    offset: usize,
    e: &pest::error::Error<describing::Rule>,
) -> (Diagnostic, usize) {
    use describing::Rule;
    use pest::error::{ErrorVariant, InputLocation};
    let pos = offset
        + match e.location {
            InputLocation::Pos(p) => p,
            InputLocation::Span((s, _)) => s,
        };
    let pos = pos.min(source.len());
    let (found, found_span) = found_at(source, pos);
    let mut expected: Vec<&'static str> = Vec::new();
    let mut keyword_found = false;
    if let ErrorVariant::ParsingError { positives, negatives } = &e.variant {
        let statement_kws = [
            Rule::kw_workflow,
            Rule::kw_arrivals,
            Rule::kw_task,
            Rule::control_kind,
            Rule::kw_flow,
            Rule::workflow_stmt,
            Rule::arrivals_stmt,
            Rule::task_stmt,
            Rule::control_stmt,
            Rule::flow_stmt,
        ];
        for r in positives {
            let word = if statement_kws.contains(r) {
                "a statement (`task`, `flow`, `branch`, ...)"
            } else {
                describe(*r)
            };
            if !expected.contains(&word) {
                expected.push(word);
            }
        }
        keyword_found = negatives.contains(&Rule::keyword)
            || (positives.contains(&Rule::ident) && STATEMENT_KEYWORDS.contains(&found.trim_matches('`')))
            || (positives.contains(&Rule::ident) && found == "`join`");
    }
    let expected_text = match expected.len() {
        0 => "something else".to_owned(),
        1 => expected[0].to_owned(),
        n => format!("{} or {}", expected[..n - 1].join(", "), expected[n - 1]),
    };
    let help = if keyword_found {
        format!("{found} is a keyword and cannot be a name; choose another name")
    } else if expected.first() == Some(&"`=`") {
        "a task is written `task NAME = KERNEL(ARGS)`, a named argument `NAME = VALUE`".to_owned()
    } else if expected.contains(&"`)`") {
        "arguments are separated by commas, and the list ends with `)`".to_owned()
    } else if expected.contains(&"`]`") {
        "flow attributes are separated by commas, and the list ends with `]`".to_owned()
    } else if expected.iter().any(|w| w.starts_with("a statement")) {
        "a statement starts with `workflow`, `arrivals`, `task`, `branch`, `fork`, `map`, `loop` or `flow`"
            .to_owned()
    } else {
        "see the grammar in docs/language.md".to_owned()
    };
    let d = diag(
        Kind::Syntax,
        found_span,
        format!("expected {expected_text}, found {found}"),
        format!("expected {expected_text}"),
        help,
    );
    (d, pos)
}

/// The token at `pos`, for "found ..." (a word, a number, a character, or the end of the file).
fn found_at(source: &str, pos: usize) -> (String, Span) {
    let rest = &source[pos..];
    let Some(c) = rest.chars().next() else {
        return ("end of file".into(), Span::new(pos, pos));
    };
    if c.is_ascii_alphanumeric() || c == '_' {
        let len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        (format!("`{}`", &rest[..len]), Span::new(pos, pos + len))
    } else if c == '\n' || c == '\r' {
        ("end of line".into(), Span::new(pos, pos + c.len_utf8()))
    } else if c == '-' && rest.starts_with("->") {
        ("`->`".into(), Span::new(pos, pos + 2))
    } else {
        (format!("`{c}`"), Span::new(pos, pos + c.len_utf8()))
    }
}

fn describe(rule: describing::Rule) -> &'static str {
    use describing::Rule;
    match rule {
        Rule::EOI => "end of file",
        Rule::ident | Rule::word | Rule::call | Rule::named => "a name",
        Rule::quantity | Rule::number => "a number",
        Rule::unit => "a unit",
        Rule::string | Rule::string_inner => "a string",
        Rule::arg => "an argument",
        Rule::args | Rule::lparen => "`(`",
        Rule::attrs | Rule::lbracket => "`[`",
        Rule::rparen => "`)`",
        Rule::rbracket => "`]`",
        Rule::eq => "`=`",
        Rule::comma => "`,`",
        Rule::colon => "`:`",
        Rule::arrow => "`->`",
        Rule::kw_join => "`join`",
        Rule::kw_workflow => "`workflow`",
        Rule::kw_arrivals => "`arrivals`",
        Rule::kw_task => "`task`",
        Rule::kw_flow => "`flow`",
        Rule::kw_branch | Rule::kw_fork | Rule::kw_map | Rule::kw_loop | Rule::control_kind => {
            "`branch`, `fork`, `map` or `loop`"
        }
        Rule::keyword => "a keyword",
        Rule::file
        | Rule::workflow_stmt
        | Rule::arrivals_stmt
        | Rule::task_stmt
        | Rule::control_stmt
        | Rule::flow_stmt => "a statement",
        Rule::value => "a value",
        Rule::WHITESPACE | Rule::statement | Rule::step => "a statement",
    }
}

/// Turns pest pairs into the syntax tree; `offset` is where the parsed text starts in the source.
struct Lower {
    offset: usize,
}

impl Lower {
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let s = p.as_span();
        Span::new(s.start() + self.offset, s.end() + self.offset)
    }

    fn name<'a>(&self, p: Pair<'a, Rule>) -> Name<'a> {
        debug_assert!(matches!(p.as_rule(), Rule::ident | Rule::word));
        Name { text: p.as_str(), span: self.span(&p) }
    }

    fn stmt<'a>(&self, p: Pair<'a, Rule>) -> Stmt<'a> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        let mut next = || inner.next().expect("the grammar guarantees this child");
        match rule {
            Rule::workflow_stmt => {
                next();
                Stmt::Workflow { span, name: self.name(next()) }
            }
            Rule::arrivals_stmt => {
                next();
                Stmt::Arrivals { span, call: self.call(next()) }
            }
            Rule::task_stmt => {
                next();
                let name = self.name(next());
                Stmt::Task { name, call: self.call(next()) }
            }
            Rule::control_stmt => {
                let kind_pair = next();
                let kind = match kind_pair.into_inner().next().map(|k| k.as_rule()) {
                    Some(Rule::kw_branch) => OpenerKind::Branch,
                    Some(Rule::kw_fork) => OpenerKind::Fork,
                    Some(Rule::kw_map) => OpenerKind::Map,
                    _ => OpenerKind::Loop,
                };
                let name = self.name(next());
                let mut args = None;
                let mut p = next();
                if p.as_rule() == Rule::args {
                    args = Some(self.args(p));
                    p = next();
                }
                debug_assert_eq!(p.as_rule(), Rule::kw_join);
                Stmt::Control { kind, name, args, join: self.name(next()) }
            }
            Rule::flow_stmt => {
                let mut chain = Vec::new();
                let mut attrs = None;
                for p in inner.skip(1) {
                    match p.as_rule() {
                        Rule::ident => chain.push(self.name(p)),
                        Rule::arrow => {}
                        Rule::attrs => attrs = Some(self.args(p)),
                        r => unreachable!("unexpected {r:?} in a flow statement"),
                    }
                }
                Stmt::Flow { chain, attrs }
            }
            r => unreachable!("unexpected {r:?} at statement level"),
        }
    }

    fn call<'a>(&self, p: Pair<'a, Rule>) -> Call<'a> {
        let span = self.span(&p);
        let mut inner = p.into_inner();
        let name = self.name(inner.next().expect("call has a name"));
        let args = self.args(inner.next().expect("call has arguments"));
        Call { name, args, span }
    }

    fn args<'a>(&self, p: Pair<'a, Rule>) -> Args<'a> {
        let items = p.into_inner().map(|a| self.arg(a)).collect();
        Args { items }
    }

    fn arg<'a>(&self, p: Pair<'a, Rule>) -> Arg<'a> {
        let span = self.span(&p);
        let it = p.into_inner();
        let mut name = None;
        let mut values = Vec::new();
        for q in it {
            match q.as_rule() {
                // A bare word is a name: values are `quantity`, `string` or `named`.
                Rule::word => name = Some(self.name(q)),
                _ => values.push(self.value(q)),
            }
        }
        let mut values = values.into_iter();
        let value = values.next().expect("an argument has a value");
        Arg { name, value, weight: values.next(), span }
    }

    fn value<'a>(&self, p: Pair<'a, Rule>) -> Value<'a> {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::named => {
                let mut inner = p.into_inner();
                let name = self.name(inner.next().expect("named has a name"));
                match inner.next() {
                    Some(args) => Value::Call(Call { name, args: self.args(args), span }),
                    None => Value::Name(name),
                }
            }
            Rule::string => {
                let raw = p.into_inner().next().map_or("", |s| s.as_str());
                let mut text = String::with_capacity(raw.len());
                let mut chars = raw.chars();
                while let Some(c) = chars.next() {
                    if c == '\\' {
                        text.extend(chars.next());
                    } else {
                        text.push(c);
                    }
                }
                Value::Str { text, span }
            }
            Rule::quantity => {
                let mut inner = p.into_inner();
                let number = inner.next().expect("a quantity has a number");
                let value = number.as_str().replace('_', "").parse::<f64>().unwrap_or(f64::NAN);
                let unit = inner.next().map(|u| Name { text: u.as_str(), span: self.span(&u) });
                Value::Number { value, number: self.span(&number), unit, span }
            }
            r => unreachable!("unexpected {r:?} as a value"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_error(src: &str) -> String {
        match parse(src) {
            Ok(_) => panic!("{src:?} parsed"),
            Err(ds) => ds[0].to_string(),
        }
    }

    #[test]
    fn parses_every_statement() {
        let src = r#"
            workflow w
            arrivals replay("a.csv", column = "T")
            task t = gemm(1, n = 2K, k = 3_000)
            loop l(count = uniform(1, 4), max = 8) join l_end
            map m(width = choice(2: 0.5, 4: 0.5)) join m_end
            flow l -> t -> l_end [bytes = 4 KiB, p = 0.5] // comment
            /* block */
        "#;
        let stmts = parse(src).expect("valid");
        assert_eq!(stmts.len(), 6);
        let Stmt::Task { call, .. } = &stmts[2] else { panic!("not a task") };
        let Value::Number { value, unit, .. } = &call.args.items[1].value else { panic!("not a number") };
        assert_eq!((*value, unit.map(|u| u.text)), (2.0, Some("K")));
        let Value::Number { value, .. } = &call.args.items[2].value else { panic!("not a number") };
        assert_eq!(*value, 3000.0);
    }

    #[test]
    fn syntax_errors_say_what_was_expected() {
        assert_eq!(first_error("task x gemm(1, 2, 3)"), "expected `=`, found `gemm`");
        assert_eq!(first_error("task t = gemm(m = )"), "expected a number, a string or a name, found `)`");
        assert!(
            first_error("task task = gemm()").contains("found `task`"),
            "{}",
            first_error("task task = gemm()")
        );
        assert!(first_error("tsk").starts_with("expected a statement"));
    }

    #[test]
    fn reports_one_error_per_broken_statement() {
        let ds = parse("task a = \ntask b = gemm(1,2,3)\nflow a ->\nflow a -> b").unwrap_err();
        assert_eq!(ds.len(), 2);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = format!("task t = gemm({})", "(".repeat(100_000));
        assert!(first_error(&src).contains("nested"));
    }
}
