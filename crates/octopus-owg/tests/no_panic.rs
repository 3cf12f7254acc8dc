//! Whatever the input, `check` returns (never panics, never hangs), its answer is consistent, and
//! its diagnostics render.

use octopus_owg::{NoFiles, check, render};
use proptest::prelude::*;

fn ok_sources() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/ok");
    let mut files: Vec<_> =
        std::fs::read_dir(dir).expect("ok fixtures").filter_map(|e| Some(e.ok()?.path())).collect();
    files.sort();
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "owg"))
        .map(|p| std::fs::read_to_string(p).expect("readable"))
        .collect()
}

fn assert_sane(source: &str) {
    let checked = check(source, "fuzz", &NoFiles);
    assert_eq!(checked.module.is_some(), !checked.has_errors());
    for d in &checked.diagnostics {
        let span = d.span().expect("every diagnostic has a span");
        assert!(span.start <= span.end && span.end as usize <= source.len(), "{d:?}");
        assert!(source.is_char_boundary(span.start as usize) && source.is_char_boundary(span.end as usize));
    }
    let _ = render(&checked.diagnostics, source, "fuzz.owg");
}

#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    Replace(usize, char),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let piece = prop_oneof![
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("->".to_owned()),
        Just("[p = 2]".to_owned()),
        Just(" 0".to_owned()),
        Just("1e400".to_owned()),
        Just("-1".to_owned()),
        Just("\"".to_owned()),
        Just("/*".to_owned()),
        Just("\n".to_owned()),
        Just("loop".to_owned()),
        Just("é".to_owned()),
        "[a-z_ ]{1,6}",
    ];
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), piece).prop_map(|(a, s)| Edit::Insert(a, s)),
        (any::<usize>(), any::<char>()).prop_map(|(a, c)| Edit::Replace(a, c)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn boundary(s: &str, at: usize) -> usize {
    let mut i = if s.is_empty() { 0 } else { at % (s.len() + 1) };
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(mut s: String, edits: &[Edit]) -> String {
    for e in edits {
        match e {
            Edit::Delete(at, n) => {
                let a = boundary(&s, *at);
                let b = boundary(&s, a + n);
                if b > a {
                    s.replace_range(a..b, "");
                }
            }
            Edit::Insert(at, piece) => {
                let a = boundary(&s, *at);
                s.insert_str(a, piece);
            }
            Edit::Replace(at, c) => {
                let a = boundary(&s, *at);
                if let Some(old) = s[a..].chars().next() {
                    s.replace_range(a..a + old.len_utf8(), c.encode_utf8(&mut [0; 4]));
                }
            }
            Edit::Truncate(at) => {
                let a = boundary(&s, *at);
                s.truncate(a);
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_text(s in ".{0,300}") {
        assert_sane(&s);
    }

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        assert_sane(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn token_soup(tokens in proptest::collection::vec(prop_oneof![
        Just("task"), Just("flow"), Just("loop"), Just("map"), Just("branch"), Just("fork"), Just("join"),
        Just("arrivals"), Just("workflow"), Just("a"), Just("b"), Just("c"), Just("="), Just("->"), Just("("),
        Just(")"), Just("["), Just("]"), Just(","), Just(":"), Just("p"), Just("1"), Just("0"), Just("-2"),
        Just("KiB"), Just("ms"), Just("gemm"), Just("compute"), Just("uniform"), Just("choice"),
        Just("max"), Just("count"), Just("width"), Just("continue"), Just("ops"), Just("\n"),
    ], 0..60)) {
        assert_sane(&tokens.join(" "));
    }

    #[test]
    fn mutated_fixtures(index in any::<usize>(), edits in proptest::collection::vec(edit(), 1..6)) {
        let sources = ok_sources();
        let source = apply(sources[index % sources.len()].clone(), &edits);
        assert_sane(&source);
    }
}

#[test]
fn pathological_inputs() {
    for s in [
        String::new(),
        "(".repeat(100_000),
        format!("task a = gemm({})", "uniform(".repeat(40)),
        "[".repeat(50),
        "/*".to_owned(),
        "\"".to_owned(),
        "task a = compute(ops = 1e308 KiB)".to_owned(),
        "task a = compute(ops = lognormal(mean = 1e300, cv = 1e300))".to_owned(),
        "task a = compute(ops = 1M)\nmap m(width = uniform(0, 1e18)) join e\nflow m -> a -> e".to_owned(),
        "task a = compute(ops = 1M)\nloop l(count = normal(mean = 1e300, cv = 1), max = 1000000) join e\nflow l -> a -> e"
            .to_owned(),
        "task a = compute(ops = 1M)\nloop l(count = uniform(0, 9e18), max = 3) join e\nflow l -> a -> e".to_owned(),
        format!("task a = compute(ops = 1M)\nflow a{}", " -> a".repeat(10_000)),
        "task a = conv2d(h = 8, w = 8, cin = 1, cout = 1, stride = normal(mean = 2, cv = 0))".to_owned(),
        (0..20)
            .map(|i| format!("task a{i} = compute(ops = 1M)\nloop l{i}(count = 2, max = 1000000) join e{i}\nflow l{i} -> a{i} -> e{i}\n"))
            .collect(),
        (0..2_000).map(|i| format!("task t{i} = compute(ops = 1M)\nflow t{i} -> t{}\n", (i + 1) % 2_000)).collect(),
    ] {
        assert_sane(&s);
    }
}
