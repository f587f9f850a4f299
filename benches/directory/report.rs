//! The results table and the auto_explain plans of the slowest statement
//! and of the queries that missed their targets.

use std::{
    fs,
    io::{BufRead, BufReader, Seek, SeekFrom},
    ops::Range,
    path::Path,
};

use crate::{
    queries::Measured,
    util::{ms, percentile, thousands},
    EXPLAIN_MIN_DURATION,
};

pub(crate) struct Plan {
    pub(crate) offset: u64,
    pub(crate) duration_ms: f64,
    pub(crate) text: String,
}

/// The auto_explain entry with the longest `duration:` among those that
/// start in the byte range `within` of `path`, and how many entries there were.
pub(crate) fn slowest_plan(path: &Path, within: Range<u64>) -> (Option<Plan>, usize) {
    let Ok(mut file) = fs::File::open(path) else { return (None, 0) };
    if file.seek(SeekFrom::Start(within.start)).is_err() {
        return (None, 0);
    }
    let mut reader = BufReader::new(file);
    let mut offset = within.start;
    let mut best: Option<Plan> = None;
    let mut current: Option<Plan> = None;
    let mut count = 0;
    let mut raw = Vec::new();
    loop {
        raw.clear();
        let read = if offset < within.end { reader.read_until(b'\n', &mut raw).unwrap_or(0) } else { 0 };
        let line = String::from_utf8_lossy(&raw);
        let continues = read > 0 && line.starts_with('\t');
        if let (Some(plan), true) = (current.as_mut(), continues) {
            plan.text.push_str(&line);
        } else {
            if let Some(plan) = current.take() {
                if best.as_ref().is_none_or(|b| plan.duration_ms > b.duration_ms) {
                    best = Some(plan);
                }
            }
            if read == 0 {
                break;
            }
            let duration = line
                .split_once("duration: ")
                .filter(|_| line.contains(" plan:"))
                .and_then(|(_, rest)| rest.split_once(" ms"))
                .and_then(|(d, _)| d.trim().parse::<f64>().ok());
            if let Some(duration_ms) = duration {
                count += 1;
                current = Some(Plan { offset, duration_ms, text: line.into_owned() });
            }
        }
        offset += read as u64;
    }
    (best, count)
}

/// The width of the query column (the organization-scoped labels are long).
const LABEL: usize = 56;

/// The results table, the targets met and the queries in full.
pub(crate) fn table(results: &[Measured]) {
    println!(
        "{:<LABEL$} {:>5} {:>9} {:>9} {:>9} {:>6} {:>11}  {:<10} result",
        "query", "runs", "p50 ms", "p99 ms", "max ms", "rows", "total", "target"
    );
    for m in results {
        let label: String = m.spec.label.chars().take(LABEL).collect();
        if m.samples.is_empty() {
            println!(
                "{label:<LABEL$} {:>5} {:>9} {:>9} {:>9} {:>6} {:>11}  {:<10} FAILED {}",
                0,
                "-",
                "-",
                "-",
                "-",
                "-",
                m.spec.target.text(),
                m.failure.as_deref().unwrap_or("")
            );
            continue;
        }
        let opt = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), thousands);
        println!(
            "{label:<LABEL$} {:>5} {:>9.2} {:>9.2} {:>9.2} {:>6} {:>11}  {:<10} {}{}",
            m.samples.len(),
            ms(percentile(&m.samples, 0.5)),
            ms(percentile(&m.samples, 0.99)),
            ms(percentile(&m.samples, 1.0)),
            opt(m.rows),
            opt(m.total),
            m.spec.target.text(),
            m.verdict(),
            m.failure.as_deref().map(|f| format!(" ({f})")).unwrap_or_default()
        );
    }
    let with_target: Vec<&Measured> = results.iter().filter(|m| m.spec.target.limit().is_some()).collect();
    let met = with_target.iter().filter(|m| m.verdict() == "ok").count();
    let failed = results.iter().filter(|m| m.failure.is_some()).count();
    println!();
    println!("targets met: {met} of {}; queries with failures: {failed}", with_target.len());
    println!();
    println!("queries:");
    for m in results {
        println!("  {:<LABEL$} {}", m.spec.label, m.spec.display());
    }
}

/// The slowest statement of the mix and its plan.
pub(crate) fn slowest(
    slowest: Option<Plan>,
    explained: usize,
    results: &[Measured],
    log_kept: bool,
    server_log: &Path,
) {
    match slowest {
        Some(plan) => {
            let during = results
                .iter()
                .find(|m| (m.log.0..m.log.1).contains(&plan.offset))
                .map_or_else(|| "between queries".to_owned(), |m| format!("during “{}”", m.spec.label));
            println!(
                "slowest statement: {:.1} ms, {during} ({explained} plans ≥ {EXPLAIN_MIN_DURATION} logged during the mix{})",
                plan.duration_ms,
                if log_kept { format!(", all in {}", server_log.display()) } else { String::new() }
            );
            print_plan(&plan, 200, server_log);
        }
        None => {
            println!("slowest statement: none took {EXPLAIN_MIN_DURATION} or more (nothing for auto_explain to log)")
        }
    }
    for m in results.iter().filter(|m| m.verdict() == "MISSED") {
        println!();
        match slowest_plan(server_log, m.log.0..m.log.1) {
            (Some(plan), _) => {
                println!("missed “{}”: its slowest statement, {:.1} ms:", m.spec.label, plan.duration_ms);
                print_plan(&plan, 80, server_log);
            }
            (None, _) => println!("missed “{}”: no statement of it took {EXPLAIN_MIN_DURATION} or more", m.spec.label),
        }
    }
}

/// The first `max` lines of an auto_explain entry, indented.
fn print_plan(plan: &Plan, max: usize, server_log: &Path) {
    let lines: Vec<&str> = plan.text.lines().collect();
    for line in lines.iter().take(max) {
        println!("  {line}");
    }
    if lines.len() > max {
        println!("  … {} more lines in {}", lines.len() - max, server_log.display());
    }
}
