//! `octopus hw list` and `octopus hw show`, run as a user would.

use std::process::{Command, Output};

fn octopus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_octopus"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn list_shows_every_preset() {
    let o = octopus(&["hw", "list"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    for name in ["chip", "package", "wafer", "hetero"] {
        assert!(text.lines().any(|l| l.starts_with(name)), "{text}");
    }
    assert!(text.contains("21504"), "{text}");
    let o = octopus(&["hw", "list", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 4);
    assert_eq!(v[2]["tbus"], 21504);
}

#[test]
fn show_prints_totals_of_presets_and_files() {
    let o = octopus(&["hw", "show", "chip"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    for want in [
        "TBUs             256",
        "clusters (CBUs)  32",
        "peak             524 Top/s",
        "diameter         10 hops",
    ] {
        assert!(text.contains(want), "missing `{want}` in\n{text}");
    }
    let o = octopus(&["hw", "show", "examples/hetero_die.ron", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kinds"].as_array().unwrap().len(), 2);
    // `--format ron` prints a description that loads again.
    let o = octopus(&["hw", "show", "wafer", "--format", "ron"]);
    assert!(octopus_hw::Machine::from_ron(&stdout(&o), "w.ron").is_ok());
}

#[test]
fn bad_files_and_names_fail_with_the_right_exit_code() {
    let o = octopus(&["hw", "show", "crates/octopus-hw/test_data/err/zero_and_negative.ron"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("hw::not_positive") && err.contains("zero_and_negative.ron:29:40"), "{err}");
    let o = octopus(&["hw", "show", "no_such_machine"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("hw::unknown_preset"));
    let o = octopus(&["hw", "show", "missing/file.ron"]);
    assert_eq!(o.status.code(), Some(2));
}

/// `wafer` with its cluster grid or its die grid widened to 65,536 x 65,536 (a machine of 2^32
/// clusters or dies) is refused at once with a located error naming the limit; nothing is built.
#[test]
fn machines_beyond_any_real_one_are_refused_with_the_limit() {
    let wafer = stdout(&octopus(&["hw", "show", "wafer", "--format", "ron"]));
    let dir = std::env::temp_dir().join(format!("octopus-hw-huge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (x, y) in [("clusters_x: 4,", "clusters_y: 8,"), ("dies_x: 7,", "dies_y: 12,")] {
        assert!(wafer.contains(x) && wafer.contains(y), "the preset's text has `{x}` and `{y}`");
        let (fx, fy) = (x.split(':').next().unwrap(), y.split(':').next().unwrap());
        let huge = wafer.replace(x, &format!("{fx}: 65536,")).replace(y, &format!("{fy}: 65536,"));
        let path = dir.join(format!("{fx}.ron"));
        std::fs::write(&path, huge).unwrap();
        let o = octopus(&[
            "simulate",
            "workflows/rag.owg",
            "--hw",
            path.to_str().unwrap(),
            "--scheduler",
            "static",
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{fx}: {err}");
        assert!(err.contains("more than the 16777216 supported"), "{fx}: {err}");
        assert!(err.contains(&format!("{fx}.ron:")), "{fx}: located in the file: {err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
