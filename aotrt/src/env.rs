//! The run's options from the environment: each `vmrun` flag `--name` is the variable
//! `KILN_NAME`. An empty variable is an unset one. Directory lists are separated as
//! `PATH` is (`:`; `;` on Windows), variable names by commas; switches take `1`, `true`
//! or `yes` and `0`, `false` or `no`.

use kiln_launch::run::{Options, Source};
use kiln_launch::{parse_duration, parse_size, parse_size_or_zero};
use kiln_runtime::{Tier, TierConfig, MAX_CALL_DEPTH};

/// The options `KILN_*` variables give, or what is wrong with one.
pub fn options() -> Result<Options, String> {
    let mut o = Options::new(Source::Environment);
    o.tier = TierConfig { tier: Tier::Jit, ..TierConfig::default() };
    o.fuel = var("KILN_FUEL", |t| t.trim().parse::<u64>().map_err(|_| format!("invalid number `{t}`")))?;
    o.max_heap = var("KILN_MAX_HEAP", parse_size)?;
    o.timeout = var("KILN_TIMEOUT", parse_duration)?;
    o.max_stack = var("KILN_MAX_STACK", |t| match t.trim().parse::<u64>() {
        Ok(n) if (1..=MAX_CALL_DEPTH as u64).contains(&n) => Ok(n),
        _ => Err(format!("invalid depth `{t}` (1 to {MAX_CALL_DEPTH})")),
    })?;
    o.max_output = var("KILN_MAX_OUTPUT", parse_size_or_zero)?;
    o.allow_read = var("KILN_ALLOW_READ", |t| Ok(std::env::split_paths(t).collect()))?.unwrap_or_default();
    o.allow_write = var("KILN_ALLOW_WRITE", |t| Ok(std::env::split_paths(t).collect()))?.unwrap_or_default();
    o.allow_env =
        var("KILN_ALLOW_ENV", |t| Ok(t.split(',').map(str::to_string).collect()))?.unwrap_or_default();
    o.allow_stdin = var("KILN_ALLOW_STDIN", switch)?.unwrap_or(false);
    o.gc_stress = var("KILN_GC_STRESS", switch)?.unwrap_or(false);
    o.stats = var("KILN_STATS", switch)?.unwrap_or(false);
    o.stats_json = var("KILN_STATS_JSON", |t| Ok(t.into()))?;
    Ok(o)
}

/// Variable `name` parsed, `None` when unset or empty.
fn var<T>(name: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>, String> {
    match std::env::var(name) {
        Ok(text) if text.is_empty() => Ok(None),
        Ok(text) => parse(&text).map(Some).map_err(|e| format!("{name}: {e}")),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{name}: not valid UTF-8")),
    }
}

fn switch(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(format!("`{text}` is not a switch (1, true, yes, 0, false, no)")),
    }
}
