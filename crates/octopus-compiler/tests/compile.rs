//! Compiler rules on small workflows: proportional home counts, time-sharing, heterogeneous
//! kinds, locality against the baselines, impossible workflows, plan versions.

use miette::{GraphicalReportHandler, GraphicalTheme, NamedSource};
use octopus_compiler::{CompileError, Options, PLAN_VERSION, Plan, Strategy, compile, compile_with};
use octopus_hw::Machine;
use octopus_owg::{Module, NoFiles, check};

fn module(src: &str) -> Module {
    let c = check(src, "test", &NoFiles);
    c.module.unwrap_or_else(|| panic!("invalid test workflow: {:?}", c.diagnostics))
}

/// `n` tasks in a chain, every flow 1 MiB, alternating heavy and light GEMMs.
fn chain(n: usize) -> String {
    let mut s = String::from("workflow chain\n");
    for i in 0..n {
        let size = if i % 2 == 0 { 1024 } else { 256 };
        s += &format!("task t{i} = gemm(m = {size}, n = {size}, k = {size})\n");
    }
    for i in 1..n {
        s += &format!("flow t{} -> t{i} [bytes = 1 MiB]\n", i - 1);
    }
    s
}

#[test]
fn home_counts_follow_expected_demand() {
    // Two parallel branches of one fork, the first with three times the work of the second.
    let m = module(
        "workflow split
         task a = gemm(m = 3072, n = 1024, k = 1024)
         task b = gemm(m = 1024, n = 1024, k = 1024)
         fork f join g
         flow f -> a -> g
         flow f -> b -> g",
    );
    let chip = Machine::preset("chip").unwrap();
    let plan = compile(&m, &chip).unwrap();
    let homes = |name: &str| plan.tasks.iter().find(|t| t.name == name).unwrap().homes.len();
    assert_eq!(homes("a") + homes("b"), 256);
    assert_eq!((homes("a"), homes("b")), (192, 64));
    assert!((plan.report.tbu_imbalance - 1.0).abs() < 1e-9);
    assert_eq!(plan.report.tbus_used, 256);
}

#[test]
fn more_tasks_than_tbus_time_share_in_order() {
    let m = module(&chain(300));
    let chip = Machine::preset("chip").unwrap();
    let plan = compile(&m, &chip).unwrap();
    assert!(plan.tasks.iter().all(|t| t.homes.len() == 1));
    assert_eq!(plan.report.tbus_used, 256);
    let shared = plan.tasks.iter().filter(|t| t.shared).count();
    assert!((300 - 256..300).contains(&shared), "{shared}");
    // Tasks that share a TBU are consecutive in the chain.
    for w in plan.tasks.windows(3) {
        if w[0].homes == w[2].homes {
            assert_eq!(w[0].homes, w[1].homes);
        }
    }
}

#[test]
fn heterogeneous_machines_use_every_kind() {
    let m = module(
        "workflow mixed
         task big = gemm(m = 4096, n = 4096, k = 4096)
         task parse = compute(ops = 50M)
         task tokenize = compute(ops = 20M)
         flow big -> parse -> tokenize",
    );
    let hetero = Machine::preset("hetero").unwrap();
    let plan = compile(&m, &hetero).unwrap();
    let kinds: Vec<_> = plan.tasks.iter().map(|t| hetero.kinds[t.kind].name.as_str()).collect();
    assert!(kinds.contains(&"pea64") && kinds.contains(&"pea16"), "{kinds:?}");
    for t in &plan.tasks {
        assert!(t.homes.iter().all(|&h| hetero.tbus[h].kind == t.kind));
    }
}

#[test]
fn locality_beats_row_major_and_random_on_a_chain() {
    let m = module(&chain(200));
    let wafer = Machine::preset("package").unwrap();
    let ours = compile(&m, &wafer).unwrap().report.noc_byte_hops;
    let rows =
        compile_with(&m, &wafer, &Options { strategy: Strategy::RowMajor }).unwrap().report.noc_byte_hops;
    let random = compile_with(&m, &wafer, &Options { strategy: Strategy::Random { seed: 1 } })
        .unwrap()
        .report
        .noc_byte_hops;
    assert!(ours < rows && ours < random, "ours {ours}, row-major {rows}, random {random}");
}

#[test]
fn compiling_is_deterministic() {
    let m = module(&chain(50));
    let wafer = Machine::preset("wafer").unwrap();
    assert_eq!(compile(&m, &wafer).unwrap(), compile(&m, &wafer).unwrap());
}

#[test]
fn a_task_larger_than_every_memory_is_a_located_diagnostic() {
    let src = "workflow huge\ntask ok = gemm(m = 64, n = 64, k = 64)\ntask giant = llm_decode(params = 2T, tokens = 8)\nflow ok -> giant\n";
    let m = module(src);
    let errors = compile(&m, &Machine::preset("chip").unwrap()).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(matches!(errors[0], CompileError::DoesNotFit { ref name, .. } if name == "giant"));
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
    let mut out = String::new();
    let report = miette::Report::new(errors.into_iter().next().unwrap())
        .with_source_code(NamedSource::new("huge.owg", src.to_owned()));
    handler.render_report(&mut out, report.as_ref()).unwrap();
    insta::assert_snapshot!(out);
    // A wafer's memory would hold it in all, but a gang runs in one die, whose memory holds the
    // weights of every model: 4 TB of weights do not fit a die's 144 GB.
    let errors = compile(&m, &Machine::preset("wafer").unwrap()).unwrap_err();
    assert!(matches!(errors[..], [CompileError::WeightsDoNotFit { .. }]), "{errors:?}");
}

/// Mixture of agents: 8B, 27B and 70B models in fp16, 212 GB of distinct weights.
const MIXTURE: &str = "workflow moa
task small = llm_decode(params = 8.03G, tokens = 64)
task medium = llm_decode(params = 27.2G, tokens = 64)
task large = llm_decode(params = 70.6G, tokens = 64)
task large_again = llm_prefill(params = 70.6G, tokens = 512)
fork all join done
flow all -> small -> done
flow all -> medium -> done
flow all -> large -> done
flow done -> large_again
";

#[test]
fn weights_beyond_a_dies_memory_are_a_located_diagnostic_with_the_figures() {
    let m = module(MIXTURE);
    let errors = compile(&m, &Machine::preset("chip").unwrap()).unwrap_err();
    let [CompileError::WeightsDoNotFit { needed, available, parts, .. }] = &errors[..] else {
        panic!("{errors:?}")
    };
    // 2 x (8.03 + 27.2 + 70.6) G = 211.7 GB: the 70B model counted once for its two blocks.
    assert_eq!((needed.as_str(), available.as_str()), ("197.1 GiB", "134.1 GiB"));
    assert!(parts.starts_with("`large` 131.5 GiB, `medium` 50.7 GiB, `small` 15.0 GiB"), "{parts}");
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
    let mut out = String::new();
    let report = miette::Report::new(errors.into_iter().next().unwrap())
        .with_source_code(NamedSource::new("moa.owg", MIXTURE.to_owned()));
    handler.render_report(&mut out, report.as_ref()).unwrap();
    insta::assert_snapshot!(out);
    // In 8-bit weights, 106 GB, they fit, with the KV capacity and the batches in the report.
    let int8 = MIXTURE
        .replace("tokens = 64)", "tokens = 64, dtype = int8)")
        .replace("tokens = 512)", "tokens = 512, dtype = int8)");
    let plan = compile(&module(&int8), &Machine::preset("chip").unwrap()).unwrap();
    let mem = &plan.report.memory;
    assert_eq!(mem.weights_bytes, 8.03e9 + 27.2e9 + 70.6e9);
    assert_eq!(mem.kv_capacity_bytes, mem.die_bytes - mem.weights_bytes);
    assert_eq!(mem.llm.len(), 4);
}

#[test]
fn a_sequence_whose_kv_cache_cannot_fit_is_a_located_diagnostic() {
    // 64 layers of 8192 in fp16 without grouped-query attention: 2 MiB of KV per token; a
    // million-token context needs 2 TiB.
    let src = "workflow long\ntask d = llm_decode(params = 1G, layers = 64, hidden = 8192, context = 1M, tokens = 8)\n";
    let errors = compile(&module(src), &Machine::preset("chip").unwrap()).unwrap_err();
    assert!(matches!(&errors[..], [CompileError::KvDoesNotFit { name, .. }] if name == "d"), "{errors:?}");
}

#[test]
fn plans_of_another_version_are_rejected() {
    let m = module(&chain(3));
    let plan = compile(&m, &Machine::preset("chip").unwrap()).unwrap();
    let text = plan.to_ron();
    assert_eq!(Plan::from_ron(&text).unwrap(), plan);
    let old = text.replacen(&format!("version: {PLAN_VERSION},"), "version: 0,", 1);
    let e = Plan::from_ron(&old).unwrap_err();
    assert!(matches!(e, CompileError::PlanVersion { found: 0, expected: PLAN_VERSION }), "{e:?}");
    assert!(matches!(Plan::from_ron("Plan(tasks: [])"), Err(CompileError::PlanSyntax { .. })));
    assert!(matches!(Plan::from_ron("not a plan"), Err(CompileError::PlanSyntax { .. })));
}
