//! Functions and filters that blueprints may call, beyond minijinja's built-ins.
//!
//! Kept small and pure: anything a blueprint could compute itself stays in the
//! blueprint, so platform teams can read and override it.

use minijinja::Environment;

/// FNV-1a, 64 bit: a stable, dependency-free hash for names and uids that
/// must not change between runs or machines (not for security).
pub fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A name of at most `max` characters: the name itself when it fits, or a
/// prefix plus an 8-hex-digit hash of the whole, so distinct inputs stay distinct.
pub fn fit(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let hash = format!("{:016x}", fnv1a(name));
    let keep = max.saturating_sub(9);
    let prefix: String = name.chars().take(keep).collect();
    format!("{}-{}", prefix.trim_end_matches('-'), &hash[..8])
}

/// JSON text re-emitted with 2-space indentation and its key order kept:
/// what `pretty_json` gives blueprints that build JSON (Grafana dashboards).
pub fn pretty_json(text: &str) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    serde_json::to_string_pretty(&value).map_err(|e| e.to_string())
}

pub fn register(env: &mut Environment<'static>) {
    // `{{ ("paved-" ~ name) | fit(40) }}`: Grafana uids, label values.
    env.add_filter("fit", |s: String, max: usize| fit(&s, max));
    // `{{ text | hash }}`: 16 hex digits, stable across runs and machines.
    env.add_filter("hash", |s: String| format!("{:016x}", fnv1a(&s)));
    // `{{ dashboard_text | pretty_json }}`: a blueprint writes JSON as text (each
    // `{{ value }}` in it is already JSON); this checks it parses and lays it out
    // one key per line, so it lands in Git as a readable block that diffs line by
    // line. Broken JSON is a blueprint error naming the line and column.
    env.add_filter("pretty_json", |s: String| {
        pretty_json(&s)
            .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_short_names_and_hashes_long_ones() {
        assert_eq!(fit("orders-staging", 40), "orders-staging");
        let long = "a".repeat(60);
        let f = fit(&long, 40);
        assert_eq!(f.len(), 40);
        assert_ne!(f, fit(&"a".repeat(61), 40));
    }

    #[test]
    fn pretty_json_keeps_key_order_and_rejects_broken_json() {
        assert_eq!(
            pretty_json(r#"{"b": 1, "a": [true]}"#).unwrap(),
            "{\n  \"b\": 1,\n  \"a\": [\n    true\n  ]\n}"
        );
        let err = pretty_json(r#"{"a": 1,}"#).unwrap_err();
        assert!(err.contains("line 1 column 9"), "{err}");
    }
}
