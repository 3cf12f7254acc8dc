//! The importer never panics, whatever it is given, and whatever it accepts is a valid workflow.
//!
//! Inputs: random bytes, truncations of a real instance, byte-level mutations of it, and
//! structural mutations (a value anywhere in the parsed document replaced by another JSON value),
//! which reach the lenient reader's every branch rather than stopping at the JSON parser.

use proptest::prelude::*;
use serde_json::Value;

const SMALL: &str = include_str!("../test_data/helloworld-forkjoin-10-chameleon.json");

/// Imports, and when the import succeeds, checks the text with the front end: no errors.
fn import_checked(json: &str) {
    match octopus_import::wfcommons(json, "fuzz.json") {
        Ok(imported) => {
            let checked = octopus_owg::check(&imported.owg, "fuzz", &octopus_owg::NoFiles);
            assert!(
                !checked.has_errors(),
                "accepted input gave an invalid workflow:\n{}\n{}",
                imported.owg,
                octopus_owg::render(&checked.diagnostics, &imported.owg, "fuzz.owg")
            );
        }
        Err(err) => {
            // A span, when there is one, lies inside the input.
            if let Some(labels) = miette::Diagnostic::labels(&err) {
                for label in labels {
                    assert!(label.offset() + label.len() <= json.len(), "{err:?} points outside the input");
                }
            }
        }
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        Just(Value::from(0)),
        Just(Value::from(-1.5)),
        "[a-z_.]{0,12}".prop_map(Value::from),
        Just(Value::from("cpuhog_forkjoin_00000001")),
        Just(Value::from("forkjoin_00000001_output.txt")),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every value in the tree, counted in a fixed order; `target` picks one to replace.
fn replace_nth(v: &mut Value, target: &mut usize, with: &Value) -> bool {
    if *target == 0 {
        *v = with.clone();
        return true;
    }
    *target -= 1;
    match v {
        Value::Array(a) => a.iter_mut().any(|x| replace_nth(x, target, with)),
        Value::Object(o) => o.values_mut().any(|x| replace_nth(x, target, with)),
        _ => false,
    }
}

fn remove_nth_key(v: &mut Value, target: &mut usize) -> bool {
    match v {
        Value::Object(o) => {
            if *target < o.len() {
                let key = o.keys().nth(*target).cloned().expect("index checked");
                o.remove(&key);
                return true;
            }
            *target -= o.len();
            o.values_mut().any(|x| remove_nth_key(x, target))
        }
        Value::Array(a) => a.iter_mut().any(|x| remove_nth_key(x, target)),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        import_checked(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_json(v in json_value()) {
        import_checked(&v.to_string());
        import_checked(&serde_json::json!({"workflow": {"specification": {"tasks": [v.clone()]}}}).to_string());
        import_checked(&serde_json::json!({"workflow": {"tasks": [v]}}).to_string());
    }

    #[test]
    fn truncations(cut in 0..SMALL.len()) {
        let cut = (0..=cut).rev().find(|&i| SMALL.is_char_boundary(i)).unwrap_or(0);
        import_checked(&SMALL[..cut]);
    }

    #[test]
    fn byte_mutations(at in 0..SMALL.len(), len in 0usize..16, insert in "[\\[\\]{},:\"0-9a-z -]{0,8}") {
        let mut bytes = SMALL.as_bytes().to_vec();
        let end = (at + len).min(bytes.len());
        bytes.splice(at..end, insert.bytes());
        import_checked(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn structural_mutations(picks in prop::collection::vec((0usize..400, json_value()), 1..4), drop in 0usize..300) {
        let mut doc: Value = serde_json::from_str(SMALL).unwrap();
        for (mut target, with) in picks {
            replace_nth(&mut doc, &mut target, &with);
        }
        let mut drop = drop;
        remove_nth_key(&mut doc, &mut drop);
        import_checked(&doc.to_string());
        import_checked(&serde_json::to_string_pretty(&doc).unwrap());
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = "[".repeat(100_000);
    assert!(octopus_import::wfcommons(&deep, "deep.json").is_err());
}

#[test]
fn a_long_chain_imports() {
    // 20 000 tasks in a chain with every shortcut of length two: deep enough to break recursion.
    let n: usize = 20_000;
    let tasks: Vec<Value> = (0..n)
        .map(|i| {
            let parents: Vec<String> =
                [i.checked_sub(1), i.checked_sub(2)].into_iter().flatten().map(|p| format!("t{p}")).collect();
            serde_json::json!({"id": format!("t{i}"), "parents": parents})
        })
        .collect();
    let doc = serde_json::json!({"schemaVersion": "1.5", "workflow": {"specification": {"tasks": tasks}}});
    let imported = octopus_import::wfcommons(&doc.to_string(), "chain.json").unwrap();
    assert_eq!(imported.report.edges_declared, 2 * n - 3);
    assert_eq!(imported.report.edges_kept, n - 1);
}
