//! Open-loop load on `simulate` and `compare`: `--rate`, `--load` (a fraction of the capacity)
//! and `--slo` parse or fail with a clear message and exit 2; `--load` runs at that fraction of the
//! capacity; the goodput search is deterministic and monotone in the SLO.

mod common;

use common::{octopus, repo_root};

fn wf(name: &str) -> String {
    repo_root().join("workflows").join(name).display().to_string()
}

fn simulate(extra: &[&str]) -> std::process::Output {
    octopus()
        .args(["simulate", &wf("rag.owg"), "--hw", "chip", "--scheduler", "greedy", "--requests", "60"])
        .args(["--seed", "2", "--format", "json"])
        .args(extra)
        .output()
        .unwrap()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn bad_rates_loads_and_slos_exit_2_with_the_reason() {
    for (args, says) in [
        (&["--rate", "0"][..], "positive and finite"),
        (&["--rate=-3/s"], "positive and finite"),
        (&["--rate", "5/week"], "unknown time unit `week`"),
        (&["--rate", "fast"], "`fast` is not a number"),
        (&["--load", "0"], "positive, finite fraction"),
        (&["--load", "NaN"], "positive, finite fraction"),
        (&["--load", "high"], "`high` is not a number"),
        (&["--load", "0.5", "--rate", "3"], "cannot be used with"),
        (&["--slo", "latency_p99"], "not a bound"),
        (&["--slo", "latency_p98<2s"], "unknown metric `latency_p98`"),
        (&["--slo", "latency_p99<2"], "needs a unit"),
        (&["--slo", "latency_p99<0ms"], "positive and finite"),
        (&["--slo", "tpot_p99<3x"], "request latency or slowdown only"),
        (&["--slo", "slowdown_p90<5s"], "is a ratio"),
    ] {
        let out = simulate(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // `driving` has no LLM decode block: a TTFT bound cannot be measured, at a rate or in a search.
    for rate in [&["--rate", "1"][..], &[]] {
        let out = octopus()
            .args([
                "simulate",
                &wf("driving.owg"),
                "--hw",
                "chip",
                "--scheduler",
                "greedy",
                "--requests",
                "5",
            ])
            .args(["--slo", "ttft_p99<1s"])
            .args(rate)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("no LLM decode block"), "{err}");
    }
}

#[test]
fn rates_with_units_and_loads_set_the_arrival_rate() {
    let rate = |args: &[&str]| json(&simulate(args))["arrival_rate_rps"].as_f64().unwrap();
    assert_eq!(rate(&["--rate", "120/min"]), 2.0);
    assert_eq!(rate(&["--rate", "2"]), 2.0);
    assert_eq!(rate(&["--rate", "0.002/ms"]), 2.0);
    // `--load` is that fraction of the capacity the goodput search reports.
    let g = json(&simulate(&["--slo", "latency_p99<5x"]));
    let capacity = g["goodput"]["capacity_rps"].as_f64().unwrap();
    assert!(capacity > 0.0);
    let at = rate(&["--load", "0.5"]);
    assert!((at - 0.5 * capacity).abs() <= 1e-9 * capacity, "{at} vs {capacity}");
    // The workflow's own arrivals and a closed batch have no rate.
    assert!(json(&simulate(&[])).get("arrival_rate_rps").is_none());
}

#[test]
fn a_rate_with_an_slo_says_whether_it_was_met() {
    let met = |args: &[&str]| json(&simulate(args))["slo_met"].as_bool().unwrap();
    assert!(met(&["--load", "0.1", "--slo", "latency_p99<1000s"]));
    assert!(!met(&["--load", "0.1", "--slo", "latency_p99<1ms"]));
}

#[test]
fn goodput_is_deterministic_and_monotone_in_the_slo() {
    let goodput = |slo: &str| {
        let out = simulate(&["--slo", slo]);
        let v = json(&out);
        (
            v["goodput"]["goodput_rps"].as_f64().unwrap(),
            v["goodput"]["runs"].as_array().unwrap().len(),
            out.stdout,
        )
    };
    let (a, runs, bytes) = goodput("latency_p99<4x");
    assert!(runs > 1 && a > 0.0, "a search of several runs finds a positive goodput: {a} in {runs}");
    assert_eq!(bytes, goodput("latency_p99<4x").2, "same seed, same search, same bytes");
    let mut last = 0.0;
    for slo in ["latency_p99<1.5x", "latency_p99<2x", "latency_p99<4x", "latency_p99<8x", "latency_p99<1000s"]
    {
        let (g, ..) = goodput(slo);
        assert!(g >= last, "{slo}: goodput {g} below a tighter SLO's {last}");
        last = g;
    }
    // The loosest SLO holds at every load scanned: goodput is censored at the top of the scan.
    let v = json(&simulate(&["--slo", "latency_p99<100000s"]));
    assert_eq!(v["goodput"]["censored"], true);
    assert_eq!(v["goodput"]["goodput_load"], 1.5);
}

#[test]
fn compare_reports_goodput_per_scheduler() {
    let out = octopus()
        .args(["compare", &wf("rag.owg"), "--hw", "chip", "--requests", "60", "--seed", "2"])
        .args(["--schedulers", "greedy", "--slo", "latency_p99<4x"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("goodput at latency_p99<4x") && text.contains("goodput r/s"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("static") || l.starts_with("greedy")).count(),
        2,
        "{text}"
    );
}
