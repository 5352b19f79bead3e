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

/// JSON text laid out as `serde_json::to_string_pretty` lays it out (2-space
/// indent, one value per line, `{}` and `[]` when empty), with every key,
/// string and number kept exactly as written: what `pretty_json` gives
/// blueprints that build JSON (Grafana dashboards). The text is checked to be
/// one JSON value without building it, then laid out in one pass over its
/// tokens; a key written twice in one object is an error, since readers
/// disagree on which one wins.
pub fn pretty_json(text: &str) -> Result<String, String> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map_err(|e| format!("not valid JSON: {e}"))?;
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    // One entry per open container: the keys of an object so far, or `None`
    // for an array.
    let mut open: Vec<Option<Keys>> = Vec::new();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            c @ (b'{' | b'[') => {
                let close = if c == b'{' { b'}' } else { b']' };
                let next = skip_json_space(b, i + 1);
                out.push(char::from(c));
                if b.get(next) == Some(&close) {
                    out.push(char::from(close));
                    i = next + 1;
                } else {
                    open.push((c == b'{').then(Keys::default));
                    newline(&mut out, open.len());
                    i += 1;
                }
            }
            c @ (b'}' | b']') => {
                open.pop();
                newline(&mut out, open.len());
                out.push(char::from(c));
                i += 1;
            }
            b',' => {
                out.push(',');
                newline(&mut out, open.len());
                i += 1;
            }
            b':' => {
                out.push_str(": ");
                i += 1;
            }
            b'"' => {
                let mut end = i + 1;
                loop {
                    // Checked above: every string is closed.
                    let Some(at) = b
                        .get(end..)
                        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
                    else {
                        return Err("not valid JSON: a string is not closed".into());
                    };
                    end += at;
                    if b[end] == b'"' {
                        break;
                    }
                    end += 2;
                }
                let token = &text[i..=end];
                let is_key = b.get(skip_json_space(b, end + 1)) == Some(&b':');
                if let (true, Some(Some(keys))) = (is_key, open.last_mut()) {
                    if !keys.insert(token) {
                        return Err(format!("the key {token} appears twice in one JSON object"));
                    }
                }
                out.push_str(token);
                i = end + 1;
            }
            _ => {
                let end = b[i..]
                    .iter()
                    .position(|c| matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'))
                    .map_or(b.len(), |n| i + n);
                out.push_str(&text[i..end]);
                i = end;
            }
        }
    }
    Ok(out)
}

/// The keys of one JSON object so far: scanned while there are few (most
/// objects), hashed beyond that, so a huge object costs linear time.
#[derive(Default)]
struct Keys<'t> {
    few: Vec<&'t str>,
    many: std::collections::HashSet<&'t str>,
}

impl<'t> Keys<'t> {
    /// False when `key` is already there.
    fn insert(&mut self, key: &'t str) -> bool {
        if !self.many.is_empty() {
            return self.many.insert(key);
        }
        if self.few.contains(&key) {
            return false;
        }
        self.few.push(key);
        if self.few.len() > 16 {
            self.many = self.few.drain(..).collect();
        }
        true
    }
}

fn skip_json_space(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
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
        assert!(pretty_json("[1] 2").is_err());
    }

    #[test]
    fn pretty_json_keeps_tokens_as_written_and_refuses_duplicate_keys() {
        assert_eq!(
            pretty_json("{ \"a\" :1e3,\"b\":\"\\u00e9 \\\" , ]\", \"c\": {\"a\": [ ]}}").unwrap(),
            "{\n  \"a\": 1e3,\n  \"b\": \"\\u00e9 \\\" , ]\",\n  \"c\": {\n    \"a\": []\n  }\n}"
        );
        let err = pretty_json(r#"{"a": 1, "b": {"a": 2}, "a": 3}"#).unwrap_err();
        assert!(err.contains("\"a\" appears twice"), "{err}");
        assert!(pretty_json(r#"[{"a": 1}, {"a": 1}]"#).is_ok());
        // Past the few keys that are scanned, the hashed ones still catch it.
        let many: Vec<String> = (0..5000).map(|i| format!("\"k{i}\": {i}")).collect();
        let object = format!("{{{}}}", many.join(", "));
        assert!(pretty_json(&object).is_ok());
        let twice = format!("{{{}, \"k3\": 0}}", many.join(", "));
        let err = pretty_json(&twice).unwrap_err();
        assert!(err.contains("\"k3\" appears twice"), "{err}");
    }

    proptest::proptest! {
        /// On JSON as serde_json writes it, the layout is serde_json's own.
        #[test]
        fn pretty_json_lays_out_as_serde_json(v in json_value()) {
            let compact = serde_json::to_string(&v).unwrap();
            proptest::prop_assert_eq!(pretty_json(&compact).unwrap(), serde_json::to_string_pretty(&v).unwrap());
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            ".{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map(".{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
