//! Canonical YAML emission for rendered manifests.
//!
//! Every manifest Paved writes goes through [`emit`], so the same
//! `serde_json::Value` always produces byte-for-byte the same text, and that
//! text reads back as the same value in every YAML reader a manifest meets on
//! its way to a cluster:
//!
//! * YAML 1.1 readers: PyYAML, and Go's `gopkg.in/yaml.v2` behind
//!   `sigs.k8s.io/yaml`, which is what kubectl and Argo CD use. In YAML 1.1
//!   `on`, `y`, `no`, `0755`, `12:30` or `2024-01-01` are *not* strings.
//! * YAML 1.2 readers (`serde_yaml`, `saphyr`, `yaml.v3`, ...), which disagree
//!   with 1.1 on some of these (`0o17`, `1e3`, `yes`), so we quote for both.
//!
//! # Canonical form
//!
//! * Block style, 2-space indentation; a sequence under a mapping key is
//!   indented by 2 more (kubectl style), and a mapping inside a sequence item
//!   starts on the dash's line (`- name: app`).
//! * Keys come out in the order of the `Map` (`serde_json` is built with
//!   `preserve_order`, so it is the order the blueprint wrote).
//! * Empty collections are `{}` and `[]`; `null`, `true`, `false`; integers
//!   as is; floats always with a `.` and a signed exponent (`1.0`, `1.0e+16`)
//!   so that YAML 1.1 reads them as floats too.
//! * Strings are plain when [`needs_quotes`] says that is safe, otherwise a
//!   literal block scalar (`|`, `|-`, `|+`, with `|2` when the text starts
//!   with whitespace) for readable multi-line text such as Rego source or
//!   dashboard JSON, otherwise a double-quoted scalar with JSON-compatible
//!   escapes.
//! * Keys longer than 1000 bytes use the explicit
//!   `? key` / `: value` form: YAML readers reject implicit keys longer than
//!   1024 characters.
//! * No line ends in whitespace, and the document ends with a newline; no
//!   `---` is written (the caller joins documents).
//!
//! The emitter writes straight into the caller's `String`: no allocation per
//! scalar, and [`needs_quotes`] is a single pass over the bytes. The value's
//! depth is bounded by whoever built it (`serde_json`'s parser stops at 128).
//!
//! Architecture invariant: a pure function of a JSON value; knows no file,
//! no Kubernetes object and no diagnostic.

use serde_json::{Map, Number, Value};
use std::fmt::Write as _;

/// Spaces added per nesting level.
const STEP: usize = 2;

/// Keys whose emitted form is longer than this many bytes are written with
/// the explicit `? ` indicator. YAML (1.1 and 1.2) limits implicit keys to
/// 1024 characters, and PyYAML/libyaml/yaml.v2 enforce it; a byte count is an
/// upper bound on the character count, and the margin covers the `: `.
const MAX_IMPLICIT_KEY_LEN: usize = 1000;

/// Appends `value` as one YAML document (no `---`, ends with a newline) to `out`.
pub(crate) fn emit(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => write_map(map, 0, false, out),
        Value::Array(seq) if !seq.is_empty() => write_seq(seq, 0, false, out),
        // A top-level scalar: a block scalar's content goes 2 columns in,
        // which is what `|2` means at the top level too.
        scalar => write_scalar(scalar, 0, out),
    }
}

/// True when a string must be quoted to be read back as the same string by YAML 1.1 readers (PyYAML, Go yaml.v2 / sigs.k8s.io/yaml used by kubectl and Argo CD) AND YAML 1.2 readers.
///
/// The rule is deliberately conservative: it quotes a superset of what any of
/// these readers would misread. Quoting a string that did not need it costs
/// two characters; failing to quote one silently changes a manifest.
#[must_use]
pub(crate) fn needs_quotes(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        // The empty plain scalar is null.
        return true;
    };

    // A leading indicator starts some other construct (sequence entry,
    // mapping key, flow collection, comment, anchor, alias, tag, block
    // scalar, quoted scalar, directive, reserved character). `-`, `?` and
    // `:` may start a plain scalar when followed by a non-space, but `-`
    // also begins `---`, `-1` and `-.inf`; we simply quote them all.
    // Leading/trailing spaces would be stripped from a plain scalar, and a
    // trailing `:` would make the string a mapping key.
    if LEADING[usize::from(first)] || last == b' ' || last == b':' {
        return true;
    }

    // Words that resolve to null, a bool, inf/nan, the merge key or the
    // YAML 1.1 value key. YAML 1.1 (yaml.v2, i.e. kubectl and Argo CD)
    // reads `y`, `n`, `yes`, `on`, `off`... as bools, YAML 1.2 does not; we
    // match case-insensitively, a superset of every reader's spelling list.
    // All of them are at most 5 bytes long.
    if bytes.len() <= 5 && is_reserved_word(s) {
        return true;
    }

    // A document end marker at the start of a line ends the document.
    // (`---` is already covered by the leading `-`.)
    if bytes.starts_with(b"...") {
        return true;
    }

    // Anything that could be read as a number or a timestamp starts with a
    // digit or a `.`, after an optional sign. Such a string is quoted when
    // all its bytes are in `NUMBERISH`: digits, hex digits, `_` and `,`
    // separators, `.`, `:` (YAML 1.1 sexagesimal `1:20:30`), signs, the
    // radix letters `x o b`, the hex-float `p`, and the timestamp letters
    // `T`/`Z` and the space. This covers every int, float and timestamp
    // form of YAML 1.1 and 1.2 (`0755`, `0o17`, `0x1F`, `0b101`, `1_000`,
    // `1e3`, `1.`, `.5`, `12:30`, `2024-01-01T10:00:00Z`, `2024-1-1 10:00:00`)
    // and, harmlessly, a few non-numbers such as `1.4.2` or a hex commit
    // id (which can be a float: `123e4567`).
    let unsigned = match bytes {
        [b'+' | b'-', rest @ ..] => rest,
        _ => bytes,
    };
    let mut numberish = match unsigned.first() {
        None => true, // a lone sign
        Some(&c) => c.is_ascii_digit() || c == b'.',
    };

    // The single pass: control and special Unicode characters, `: ` and
    // ` #` inside the string, and whether it stays numberish. Most bytes
    // need no attention, which one table lookup tells.
    for (i, &c) in bytes.iter().enumerate() {
        numberish &= NUMBERISH[usize::from(c)];
        if !ATTENTION[usize::from(c)] {
            continue;
        }
        let prev = if i > 0 { bytes[i - 1] } else { 0 };
        match c {
            // `: ` makes a mapping, ` #` starts a comment.
            b' ' if prev == b':' => return true,
            b'#' if prev == b' ' => return true,
            b' ' | b'#' => {}
            // Non-ASCII lead bytes of the characters YAML 1.1 treats as
            // line breaks or that readers reject or strip (see
            // `special_unicode_at`).
            0xC2 | 0xE2 | 0xEF => {
                if special_unicode_at(bytes, i) {
                    return true;
                }
            }
            // Line breaks, tabs and other C0 controls, DEL: a plain scalar
            // would be folded, cut or rejected by the reader.
            _ => return true,
        }
    }
    numberish
}

/// Bytes that may not start a plain scalar (see [`needs_quotes`]).
static LEADING: [bool; 256] = byte_table(b"-?:,[]{}#&*!|>'\"%@` ");

const fn byte_table(bytes: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        table[bytes[i] as usize] = true;
        i += 1;
    }
    table
}

/// Bytes [`needs_quotes`] must look at: C0 controls, DEL, space, `#`, and
/// the lead bytes of the special Unicode characters.
static ATTENTION: [bool; 256] = byte_table(
    b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\
      \x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\
      \x7f #\xc2\xe2\xef",
);

/// Null, bool, inf/nan, merge-key and value-key words (compared
/// case-insensitively).
fn is_reserved_word(s: &str) -> bool {
    #[rustfmt::skip]
    const WORDS: [&str; 18] = [
        "~", "null", // null
        "y", "n", "yes", "no", "on", "off", // YAML 1.1 bools
        "true", "false", // bools everywhere
        ".inf", "+.inf", "-.inf", ".nan", "+.nan", "-.nan", // floats
        "<<", // merge key
        "=",  // YAML 1.1 value key (PyYAML refuses to construct it)
    ];
    WORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
}

/// Bytes a numberish string may consist of (see [`needs_quotes`]).
static NUMBERISH: [bool; 256] = byte_table(b"0123456789abcdefABCDEF_,.:+- xXoObBpPtTzZ");

/// Whether the UTF-8 sequence starting at `bytes[i]` is one of the non-ASCII
/// characters that must never appear raw in a plain or block scalar:
/// C1 controls U+0080..U+009F (U+0085 NEL is a line break in YAML 1.1, the
/// rest are not printable), U+2028/U+2029 (line/paragraph separators, line
/// breaks in YAML 1.1), U+FEFF (byte order mark, stripped by readers) and
/// U+FFFE/U+FFFF (not printable, rejected by readers).
fn special_unicode_at(bytes: &[u8], i: usize) -> bool {
    let b1 = bytes.get(i + 1).copied().unwrap_or(0);
    let b2 = bytes.get(i + 2).copied().unwrap_or(0);
    match bytes.get(i) {
        Some(0xC2) => (0x80..=0x9F).contains(&b1),
        Some(0xE2) => b1 == 0x80 && (b2 == 0xA8 || b2 == 0xA9),
        Some(0xEF) => (b1 == 0xBB && b2 == 0xBF) || (b1 == 0xBF && (b2 == 0xBE || b2 == 0xBF)),
        _ => false,
    }
}

/// Characters that are written as `\uXXXX` inside a double-quoted scalar:
/// the same set as [`special_unicode_at`] plus C0 controls and DEL (a YAML
/// stream may not contain them raw).
fn needs_unicode_escape(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1F}'
            | '\u{7F}'..='\u{9F}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{FEFF}'
            | '\u{FFFE}'
            | '\u{FFFF}'
    )
}

/// Writes the entries of a non-empty mapping whose keys sit at column
/// `indent`. With `inline_first`, the first key continues the current line
/// (after a sequence's `- `).
fn write_map(map: &Map<String, Value>, indent: usize, inline_first: bool, out: &mut String) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !inline_first {
            push_indent(indent, out);
        }
        write_key(key, indent, out);
        match value {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                write_map(inner, indent + STEP, false, out);
            }
            // kubectl style: the sequence is indented under its key.
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(inner, indent + STEP, false, out);
            }
            scalar => {
                out.push(' ');
                write_scalar(scalar, indent, out);
            }
        }
    }
}

/// Writes the items of a non-empty sequence whose dashes sit at column
/// `indent`. With `inline_first`, the first dash continues the current line
/// (a sequence directly inside a sequence: `- - a`).
fn write_seq(seq: &[Value], indent: usize, inline_first: bool, out: &mut String) {
    for (i, item) in seq.iter().enumerate() {
        if i > 0 || !inline_first {
            push_indent(indent, out);
        }
        out.push_str("- ");
        match item {
            Value::Object(inner) if !inner.is_empty() => {
                write_map(inner, indent + STEP, true, out);
            }
            Value::Array(inner) if !inner.is_empty() => {
                write_seq(inner, indent + STEP, true, out);
            }
            scalar => write_scalar(scalar, indent, out),
        }
    }
}

/// Writes a mapping key and its `:`. The key is quoted by the same rule as
/// values; a key too long to be an implicit key is written as `? key` with
/// the `:` on the next line, at the same column.
fn write_key(key: &str, indent: usize, out: &mut String) {
    let start = out.len();
    if needs_quotes(key) {
        write_double_quoted(key, out);
    } else {
        out.push_str(key);
    }
    if out.len() - start > MAX_IMPLICIT_KEY_LEN {
        out.insert_str(start, "? ");
        out.push('\n');
        push_indent(indent, out);
    }
    out.push(':');
}

/// Writes a scalar (or an empty collection) and the newline after it. The
/// scalar belongs to a collection at column `indent`; block scalar content
/// goes at `indent + 2`.
fn write_scalar(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => {
            if !needs_quotes(s) {
                out.push_str(s);
            } else if let Some(block) = LiteralBlock::plan(s) {
                // Writes its own final newline.
                block.write(indent + STEP, out);
                return;
            } else {
                write_double_quoted(s, out);
            }
        }
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
    out.push('\n');
}

/// Writes a number. Integers are written as is. Floats get a `.` in the
/// mantissa and a sign in the exponent (`1.0`, `1.0e+16`, `5.0e-324`):
/// YAML 1.1 readers only read `[0-9]+\.[0-9]*([eE][-+][0-9]+)?` as a float,
/// so `1e+16` would come back as a string from PyYAML. `serde_json`'s `Display`
/// (`ryu`) gives `1.0`, `0.5`, `1e+16`, `5e-324`: shortest round-trip digits.
fn write_number(n: &Number, out: &mut String) {
    let start = out.len();
    // Writing into a String cannot fail.
    let _ = write!(out, "{n}");
    if n.is_i64() || n.is_u64() {
        return;
    }
    // `start` was the length before the write: in bounds.
    let text = &out.as_bytes()[start..];
    let exponent = text.iter().position(|&b| b == b'e' || b == b'E');
    let mantissa_end = exponent.unwrap_or(text.len());
    let has_dot = text[..mantissa_end].contains(&b'.');
    match exponent {
        Some(e) => {
            // Fix the later position first so `start + e` stays valid.
            let sign_at = start + e + 1;
            if !matches!(out.as_bytes().get(sign_at), Some(b'+' | b'-')) {
                out.insert(sign_at, '+');
            }
            if !has_dot {
                out.insert_str(start + e, ".0");
            }
        }
        // With serde_json's `arbitrary_precision` a huge integer is neither
        // i64 nor u64 nor f64: leave its digits alone.
        None if !has_dot && n.is_f64() => out.push_str(".0"),
        None => {}
    }
}

/// Writes `s` as a double-quoted scalar with JSON-compatible escapes:
/// `\"`, `\\`, `\n`, `\t`, `\r` and `\uXXXX` for the other control and
/// special characters; everything else, including non-ASCII text, as is.
/// Unescaped runs are copied as whole slices.
fn write_double_quoted(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut run_start = 0;
    for (i, c) in s.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\t' => "\\t",
            '\r' => "\\r",
            c if needs_unicode_escape(c) => "",
            _ => continue,
        };
        // `run_start` and `i` are char boundaries from `char_indices`.
        out.push_str(&s[run_start..i]);
        if escape.is_empty() {
            push_unicode_escape(c, out);
        } else {
            out.push_str(escape);
        }
        run_start = i + c.len_utf8();
    }
    out.push_str(&s[run_start..]);
    out.push('"');
}

/// Writes `\uXXXX` (upper-case hex) for a character in the Basic
/// Multilingual Plane, which is all [`needs_unicode_escape`] ever selects.
fn push_unicode_escape(c: char, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let code = u32::from(c);
    out.push_str("\\u");
    for shift in [12u32, 8, 4, 0] {
        // `& 0xF` keeps the index below 16.
        out.push(char::from(HEX[((code >> shift) & 0xF) as usize]));
    }
}

/// A multi-line string that can be written as a literal block scalar.
struct LiteralBlock<'a> {
    /// The text without its trailing newlines.
    body: &'a str,
    /// How many newlines the text ends with (decides the chomping).
    trailing_newlines: usize,
    /// The first non-empty line starts with a space or tab, so the reader
    /// cannot detect the indentation by itself.
    needs_indent_indicator: bool,
}

impl<'a> LiteralBlock<'a> {
    /// Returns the plan for writing `s` as a literal block, or `None` when a
    /// literal block cannot carry `s` exactly and readably:
    /// * no line break at all (then it is not multi-line text);
    /// * nothing but line breaks (a block with no content line has
    ///   reader-specific chomping);
    /// * `\r`, other control characters, DEL, or the special Unicode
    ///   characters (they would be normalised, rejected or invisible);
    /// * whitespace at the end of a line (readers keep it, but our output
    ///   never has trailing whitespace; and a whitespace-only line could not
    ///   be told from an empty one).
    ///
    /// Tabs are allowed inside lines, including at their start (`opa fmt`
    /// indents Rego with tabs): the content indentation is spaces only.
    fn plan(s: &'a str) -> Option<Self> {
        if !s.contains('\n') {
            return None;
        }
        let body = s.trim_end_matches('\n');
        let bytes = body.as_bytes();
        let last = *bytes.last()?;
        if last == b' ' || last == b'\t' {
            return None;
        }
        for (i, &c) in bytes.iter().enumerate() {
            // Spaces and `#` are fine here; the other bytes `needs_quotes`
            // looks at are not, except line breaks and tabs.
            if !ATTENTION[usize::from(c)] || c == b' ' || c == b'#' {
                continue;
            }
            match c {
                b'\n' if i > 0 && matches!(bytes[i - 1], b' ' | b'\t') => return None,
                b'\n' | b'\t' => {}
                0xC2 | 0xE2 | 0xEF => {
                    if special_unicode_at(bytes, i) {
                        return None;
                    }
                }
                _ => return None,
            }
        }
        let first_line = body.trim_start_matches('\n');
        Some(Self {
            body,
            trailing_newlines: s.len() - body.len(),
            needs_indent_indicator: first_line.starts_with([' ', '\t']),
        })
    }

    /// Writes the header (`|`, `|-`, `|+`, optionally `|2...`) and the lines
    /// at column `content_indent`, ending with a newline. Empty lines carry
    /// no indentation.
    fn write(&self, content_indent: usize, out: &mut String) {
        out.push('|');
        if self.needs_indent_indicator {
            // The indicator counts from the enclosing collection's column,
            // which is always `content_indent - 2`.
            out.push('2');
        }
        match self.trailing_newlines {
            0 => out.push('-'), // strip: no final newline
            1 => {}             // clip: exactly one final newline
            _ => out.push('+'), // keep: the extra newlines are empty lines
        }
        out.push('\n');
        for line in lines(self.body) {
            if !line.is_empty() {
                push_indent(content_indent, out);
                out.push_str(line);
            }
            out.push('\n');
        }
        for _ in 1..self.trailing_newlines {
            out.push('\n');
        }
    }
}

/// The lines of `text`, split at `\n` (as `str::split`, with a vectorised search).
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text.as_bytes())
        .map(Some)
        .chain([None])
        .map(move |end| {
            let end = end.unwrap_or(text.len());
            let line = &text[start..end];
            start = end + 1;
            line
        })
}

/// Appends `n` spaces.
fn push_indent(n: usize, out: &mut String) {
    const SPACES: &str = "                                ";
    let mut left = n;
    while left > 0 {
        let chunk = left.min(SPACES.len());
        out.push_str(&SPACES[..chunk]);
        left -= chunk;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn lines_splits_as_str_split(text in "[a\n]{0,12}") {
            let ours: Vec<&str> = lines(&text).collect();
            let std: Vec<&str> = text.split('\n').collect();
            proptest::prop_assert_eq!(ours, std);
        }
    }
    use serde_json::json;

    fn emit_string(value: &Value) -> String {
        let mut out = String::new();
        emit(value, &mut out);
        out
    }

    /// Emits `value`, checks the text's shape, parses it back with
    /// `serde_yaml` (YAML 1.2) and asserts it is the same value.
    fn assert_round_trip(value: &Value) -> String {
        let text = emit_string(value);
        assert_well_formed(&text);
        let back: Value = match serde_yaml::from_str(&text) {
            Ok(v) => v,
            Err(e) => panic!("serde_yaml cannot read back {value:?}:\n{text}\nerror: {e}"),
        };
        assert_eq!(
            &back, value,
            "round trip changed the value; YAML was:\n{text}"
        );
        text
    }

    /// Every document ends with a newline, and no line ends in whitespace.
    fn assert_well_formed(text: &str) {
        assert!(text.ends_with('\n'), "no final newline: {text:?}");
        for line in text.lines() {
            assert!(
                !line.ends_with([' ', '\t']),
                "trailing whitespace in line {line:?} of:\n{text}"
            );
        }
    }

    // ---------------------------------------------------------------- golden

    #[test]
    fn golden_kubernetes_deployment() {
        let doc = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": "shop",
                "labels": {
                    "app.kubernetes.io/name": "web",
                    "app.kubernetes.io/version": "1.4.2",
                    "tier": "on"
                },
                "annotations": {}
            },
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
                "template": {
                    "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
                    "spec": {
                        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                        "containers": [
                            {
                                "name": "app",
                                "image": "ghcr.io/acme/app:1.4.2",
                                "args": ["--port=8080", "serve"],
                                "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                                "env": [
                                    {"name": "RATIO", "value": "0.5"},
                                    {"name": "DEBUG", "value": "false"},
                                    {"name": "SCHEDULE", "value": "*/5 * * * *"},
                                    {"name": "EMPTY", "value": ""}
                                ],
                                "resources": {
                                    "limits": {"cpu": "500m", "memory": "512Mi"},
                                    "requests": {"cpu": 0.25, "memory": "256Mi"}
                                },
                                "readinessProbe": {
                                    "httpGet": {"path": "/healthz", "port": "http"},
                                    "periodSeconds": 10
                                },
                                "volumeMounts": []
                            }
                        ],
                        "nodeSelector": null,
                        "tolerations": [[{"key": "a"}], "b"]
                    }
                }
            }
        });
        let expected = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app.kubernetes.io/name: web
    app.kubernetes.io/version: \"1.4.2\"
    tier: \"on\"
  annotations: {}
spec:
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
    spec:
      securityContext:
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: app
          image: ghcr.io/acme/app:1.4.2
          args:
            - \"--port=8080\"
            - serve
          ports:
            - containerPort: 8080
              name: http
              protocol: TCP
          env:
            - name: RATIO
              value: \"0.5\"
            - name: DEBUG
              value: \"false\"
            - name: SCHEDULE
              value: \"*/5 * * * *\"
            - name: EMPTY
              value: \"\"
          resources:
            limits:
              cpu: 500m
              memory: 512Mi
            requests:
              cpu: 0.25
              memory: 256Mi
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
          volumeMounts: []
      nodeSelector: null
      tolerations:
        - - key: a
        - b
";
        assert_eq!(emit_string(&doc), expected);
        assert_round_trip(&doc);
    }

    #[test]
    fn golden_configmap_with_literal_blocks() {
        let doc = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "data": {
                "policy.rego": "package paved.authz\n\ndefault allow := false\n\nallow if {\n\tinput.user == \"admin\"\n}\n",
                "dashboard.json": "{\n  \"title\": \"Web\",\n  \"panels\": []\n}",
                "indented.txt": "  starts indented\nthen not\n",
                "kept.txt": "two trailing\n\n",
                "crlf.txt": "a\r\nb\r\n",
                "trailing-space.txt": "a \nb\n"
            },
            "items": ["one\ntwo\n", "  x\ny"]
        });
        let expected = "\
apiVersion: v1
kind: ConfigMap
data:
  policy.rego: |
    package paved.authz

    default allow := false

    allow if {
    \tinput.user == \"admin\"
    }
  dashboard.json: |-
    {
      \"title\": \"Web\",
      \"panels\": []
    }
  indented.txt: |2
      starts indented
    then not
  kept.txt: |+
    two trailing

  crlf.txt: \"a\\r\\nb\\r\\n\"
  trailing-space.txt: \"a \\nb\\n\"
items:
  - |
    one
    two
  - |2-
      x
    y
";
        assert_eq!(emit_string(&doc), expected);
        assert_round_trip(&doc);
    }

    #[test]
    fn golden_top_level_scalars_and_sequences() {
        assert_eq!(emit_string(&json!(null)), "null\n");
        assert_eq!(emit_string(&json!(true)), "true\n");
        assert_eq!(emit_string(&json!(42)), "42\n");
        assert_eq!(emit_string(&json!("plain")), "plain\n");
        assert_eq!(emit_string(&json!("yes")), "\"yes\"\n");
        assert_eq!(emit_string(&json!({})), "{}\n");
        assert_eq!(emit_string(&json!([])), "[]\n");
        assert_eq!(emit_string(&json!("a\nb\n")), "|\n  a\n  b\n");
        assert_eq!(emit_string(&json!(" a\nb")), "|2-\n   a\n  b\n");
        assert_eq!(
            emit_string(&json!([1, "x", {"k": [{}, []]}, [[]]])),
            "- 1\n- x\n- k:\n    - {}\n    - []\n- - []\n"
        );
        let mut out = String::from("# existing\n");
        emit(&json!({"a": 1}), &mut out);
        assert_eq!(out, "# existing\na: 1\n", "emit appends");
    }

    #[test]
    fn golden_numbers() {
        let cases: [(Value, &str); 12] = [
            (json!(0), "0"),
            (json!(-7), "-7"),
            (json!(u64::MAX), "18446744073709551615"),
            (json!(i64::MIN), "-9223372036854775808"),
            (json!(1.0), "1.0"),
            (json!(0.5), "0.5"),
            (json!(-0.0), "-0.0"),
            (json!(1000.0), "1000.0"),
            (json!(1e16), "1.0e+16"),
            (json!(1.5e-7), "1.5e-7"),
            (json!(5e-324), "5.0e-324"),
            (json!(f64::MAX), "1.7976931348623157e+308"),
        ];
        for (value, text) in cases {
            assert_eq!(
                emit_string(&json!({ "value": value })),
                format!("value: {text}\n")
            );
            assert_round_trip(&json!({ "value": value }));
        }
    }

    #[test]
    fn golden_escapes() {
        let doc = json!({
            "q": "say \"hi\" \\ bye\n\t",
            "ctl": "\u{0}\u{1}\u{1B}\u{7F}\u{85}\u{2028}\u{2029}\u{FEFF}\u{FFFE}",
            "uni": "café ✓ 🚀 日本語\n"
        });
        let expected = "\
q: \"say \\\"hi\\\" \\\\ bye\\n\\t\"
ctl: \"\\u0000\\u0001\\u001B\\u007F\\u0085\\u2028\\u2029\\uFEFF\\uFFFE\"
uni: |
  café ✓ 🚀 日本語
";
        assert_eq!(emit_string(&doc), expected);
        assert_round_trip(&doc);
    }

    #[test]
    fn golden_quoted_and_long_keys() {
        let long = "k".repeat(MAX_IMPLICIT_KEY_LEN + 1);
        let mut map = Map::new();
        map.insert("on".into(), json!("y"));
        map.insert("1".into(), json!(1));
        map.insert("a: b".into(), json!({"x": 1}));
        map.insert("multi\nline".into(), json!([1]));
        map.insert(long.clone(), json!({"x": [1]}));
        map.insert("short".into(), json!("v"));
        let doc = Value::Array(vec![Value::Object(map.clone()), Value::Object(map)]);
        let entry = format!(
            "\"on\": \"y\"\n  \"1\": 1\n  \"a: b\":\n    x: 1\n  \"multi\\nline\":\n    - 1\n  ? {long}\n  :\n    x:\n      - 1\n  short: v\n"
        );
        assert_eq!(emit_string(&doc), format!("- {entry}- {entry}"));
        assert_round_trip(&doc);
        // At the top level too, and with a long key that needs quotes.
        let quoted_long = format!("{}:", "x".repeat(MAX_IMPLICIT_KEY_LEN));
        let doc = json!({ long.clone(): "v", quoted_long.clone(): null, "k": 1 });
        assert_eq!(
            emit_string(&doc),
            format!("? {long}\n: v\n? \"{quoted_long}\"\n: null\nk: 1\n")
        );
        assert_round_trip(&doc);
    }

    // -------------------------------------------------------------- quoting

    /// Strings that must come out plain (readability of common manifests).
    #[rustfmt::skip]
    const PLAIN: &[&str] = &[
        "ghcr.io/acme/app:1.4.2",
        "500m",
        "512Mi",
        "10Gi",
        "http",
        "/healthz",
        "nginx-internal",
        "https://x.y/z",
        "RuntimeDefault",
        "app.kubernetes.io/name",
        "apps/v1",
        "v1.2.3",
        "192.168.0.0/16",
        "8080/TCP",
        "a:b",
        "a#b",
        "it's",
        "say \"hi\"",
        "C:\\path",
        "a {{ x }}",
        "café",
        "日本語",
        "🚀",
        "yesterday",
        "Norway",
        "nullable",
        "one two",
        "~/bin",
        "+abc",
        "<<a",
        ".env",
        "x=1",
    ];

    #[test]
    fn plain_strings_stay_plain() {
        for s in PLAIN {
            assert!(!needs_quotes(s), "{s:?} should be plain");
            assert_eq!(emit_string(&json!({ "k": s })), format!("k: {s}\n"));
            assert_round_trip(&json!({ *s: s }));
        }
    }

    fn assert_all_quoted(class: &str, strings: &[&str]) {
        for s in strings {
            assert!(needs_quotes(s), "{class}: {s:?} must be quoted");
            let text = assert_round_trip(&json!({ "k": s }));
            assert!(
                text.starts_with("k: \"") || text.starts_with("k: |"),
                "{class}: {s:?} came out as {text:?}"
            );
        }
    }

    #[test]
    #[rustfmt::skip]
    fn quotes_empty_and_null_likes() {
        assert_all_quoted("null", &["", "~", "null", "Null", "NULL", "nULL"]);
    }

    #[test]
    #[rustfmt::skip]
    fn quotes_yaml_1_1_bools() {
        assert_all_quoted(
            "bool",
            &[
                "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
                "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
            ],
        );
    }

    #[test]
    #[rustfmt::skip]
    fn quotes_ints() {
        assert_all_quoted(
            "int",
            &[
                "0", "1", "42", "0755", "0o17", "0O17", "0x1F", "0X1f", "0b101", "+1", "-1", "1_000",
                "1_", "0_", "1,000", "12:30", "1:20:30", "-1:20", "190:20:30", "22:22", "+0x1F",
                "-0b1", "18446744073709551616", "123e4567",
            ],
        );
    }

    #[test]
    #[rustfmt::skip]
    fn quotes_floats() {
        assert_all_quoted(
            "float",
            &[
                "1e3", "1E3", "1e+3", "1e-3", "1.5", ".5", "1.", "0.", "+.5", "-.5", "1.5e+3",
                "1_0.5", "190:20:30.15", ".inf", ".Inf", ".INF", "+.inf", "-.inf", "-.Inf", ".nan",
                ".NaN", ".NAN", "0x1p-2", "1.4.2", "10.0.0.1", ".", "+", "+.",
            ],
        );
    }

    #[test]
    #[rustfmt::skip]
    fn quotes_timestamps() {
        assert_all_quoted(
            "timestamp",
            &[
                "2024-01-01",
                "2024-01-01T10:00:00Z",
                "2024-01-01t10:00:00z",
                "2024-1-1 10:00:00",
                "2001-12-14 21:59:43.10 -5",
                "2001-12-14T21:59:43.10-05:00",
            ],
        );
    }

    #[test]
    #[rustfmt::skip]
    fn quotes_special_keys() {
        assert_all_quoted("merge/value key", &["<<", "="]);
    }

    #[test]
    #[rustfmt::skip]
    fn quotes_leading_indicators() {
        assert_all_quoted(
            "indicator",
            &[
                "-", "-x", "--port=8080", "- x", "?", "?x", "? x", ":", ":x", ",x", "[x]", "]", "{x}",
                "{{ x }}", "}", "# x", "#x", "&a", "*a", "*/5 * * * *", "!tag", "|", "|x", ">",
                ">x", "'x'", "'", "\"x\"", "\"", "%YAML", "@x", "`x`",
            ],
        );
    }

    #[test]
    #[rustfmt::skip]
    fn quotes_whitespace_colon_and_comment_traps() {
        assert_all_quoted(
            "whitespace/colon/comment",
            &[
                " ", "   ", " x", "x ", " x ", "a: b", "key: value", "a:", "http:", "a #b", "a # b",
                "a\tb", "\t", "x\t",
            ],
        );
    }

    #[test]
    #[rustfmt::skip]
    fn quotes_control_and_special_unicode() {
        assert_all_quoted(
            "control/unicode",
            &[
                "a\nb", "\n", "a\r\nb", "\r", "\u{0}", "a\u{0}b", "\u{1B}[0m", "\u{7F}", "a\u{85}b",
                "a\u{2028}b", "a\u{2029}b", "\u{FEFF}x", "x\u{FEFF}", "\u{FFFE}", "\u{FFFF}",
                "\u{80}", "\u{9F}",
            ],
        );
    }

    #[test]
    #[rustfmt::skip]
    fn quotes_document_markers() {
        assert_all_quoted(
            "document marker",
            &["---", "--- x", "---\nkind: Secret", "...", "... x", "...bar", "....", "---x"],
        );
        // As a top-level scalar, too.
        for s in ["---", "...", "...bar", "--- a"] {
            assert!(emit_string(&json!(s)).starts_with('"'));
        }
    }

    #[test]
    fn literal_block_choice() {
        let block = |s: &str| emit_string(&json!({ "k": s }));
        assert_eq!(block("a\nb"), "k: |-\n  a\n  b\n");
        assert_eq!(block("a\nb\n"), "k: |\n  a\n  b\n");
        assert_eq!(block("a\nb\n\n\n"), "k: |+\n  a\n  b\n\n\n");
        assert_eq!(block("\n\na"), "k: |-\n\n\n  a\n");
        assert_eq!(block("\n  a\n"), "k: |2\n\n    a\n");
        assert_eq!(block("\ta\n\tb\n"), "k: |2\n  \ta\n  \tb\n");
        assert_eq!(
            block("#!/bin/sh\n--- x\n...\n"),
            "k: |\n  #!/bin/sh\n  --- x\n  ...\n"
        );
        assert_eq!(block("a\n\nb"), "k: |-\n  a\n\n  b\n");
        // Not representable as a literal block: fall back to double quotes.
        assert_eq!(block("\n"), "k: \"\\n\"\n");
        assert_eq!(block("\n\n"), "k: \"\\n\\n\"\n");
        assert_eq!(block("a\r\nb"), "k: \"a\\r\\nb\"\n");
        assert_eq!(block("a \nb"), "k: \"a \\nb\"\n");
        assert_eq!(block("a\n \nb"), "k: \"a\\n \\nb\"\n");
        assert_eq!(block("a\nb\t"), "k: \"a\\nb\\t\"\n");
        assert_eq!(block("a\n\u{85}"), "k: \"a\\n\\u0085\"\n");
        assert_eq!(block("a\n\u{0}"), "k: \"a\\n\\u0000\"\n");
        // Keys are never block scalars.
        assert_eq!(emit_string(&json!({"a\nb": 1})), "\"a\\nb\": 1\n");
    }

    // ----------------------------------------------------------- round trip

    /// Tricky strings: every trap above plus structure-looking text, quotes,
    /// backslashes, template syntax, Unicode and whitespace-only strings.
    #[rustfmt::skip]
    fn tricky_strings() -> Vec<String> {
        let mut all: Vec<String> = [
            "", " ", "  ", "\t", "~", "null", "Null", "NULL", "y", "Y", "yes", "n", "N", "no", "NO",
            "true", "True", "false", "FALSE", "on", "On", "OFF", "0", "1", "-1", "+1", "0755", "0o17",
            "0x1F", "0b101", "1_000", "12:30", "1:20:30", "1e3", "1.5", ".5", "1.", ".inf", "-.Inf",
            ".nan", ".NaN", "2024-01-01", "2024-01-01T10:00:00Z", "2024-1-1 10:00:00", "<<", "=",
            "-", "?", ":", ",", "[", "]", "{", "}", "#", "&", "*", "!", "|", ">", "'", "\"", "%",
            "@", "`", "\\", "\\n", "''", "\"\"", "'x'", "\"x\"", "it's", "{{ x }}", "{{ .Values.x }}",
            "${VAR}", "a: b", "a:b", "a :b", "- x", "-x", "# x", "a # b", "a#b", "key: value\nkind: ClusterRole",
            "---\nkind: Secret", "---", "...", "--- |", " leading", "trailing ", " both ", "a\r\nb\r\n",
            "\r\n", "\r", "a\u{0}b", "\u{0}", "tab\there", "\ttab-first\n\tsecond\n", "a\n\tb",
            "café", "日本語", "🚀 rocket", "emoji 👩‍👩‍👧", "\u{A0}nbsp\u{A0}", "\u{85}", "\u{2028}",
            "\u{2029}", "\u{FEFF}bom", "\u{FFFD}", "\u{10FFFF}", "\u{FFFE}", "\u{1F}", "\u{7F}",
            "ghcr.io/acme/app:1.4.2", "500m", "512Mi", "http", "/healthz", "nginx-internal",
            "https://x.y/z", "RuntimeDefault", "*/5 * * * *", "app.kubernetes.io/name", "--port=8080",
            "1.4.2", "10.0.0.1", "123e4567", "0x1p-2", "1,000", "a\nb", "a\nb\n", "a\nb\n\n",
            "\n", "\n\n", "\na", "\n\na\n", " a\nb", "  a\n  b\n", "a \nb", "a\n \nb",
            "a\n\nb", "line1\nline2\n\n\n", "#!/bin/sh\necho hi\n", "x: |\n  y\n", "[1, 2]\n{a: b}\n",
            "  \n", "a\n  ", "\u{85}\n", "---\n---\n", "...\n", "{\n  \"a\": [1, 2],\n  \"b\": {}\n}\n",
            "package p\n\nallow if {\n\tinput.x == \"y\"\n}\n", "%YAML 1.2\n---\n", "a\u{2028}\nb",
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        all.push("k".repeat(MAX_IMPLICIT_KEY_LEN + 50));
        all.push(format!("{}\n", "long line ".repeat(200)));
        all
    }

    /// The documents the round-trip tests check (and dump for PyYAML).
    fn round_trip_documents() -> Vec<Value> {
        let mut docs = Vec::new();
        for s in tricky_strings() {
            let v = Value::String(s.clone());
            docs.push(v.clone());
            docs.push(json!([v.clone(), [v.clone()], {"x": v.clone()}]));
            let mut keyed = Map::new();
            keyed.insert(s.clone(), v.clone());
            docs.push(Value::Object(keyed.clone()));
            docs.push(json!({
                "metadata": {"labels": Value::Object(keyed.clone())},
                "spec": {"items": [Value::Object(keyed.clone()), {"nested": [v.clone(), {}]}, []]},
            }));
        }
        let all: Vec<Value> = tricky_strings().into_iter().map(Value::String).collect();
        let keyed: Map<String, Value> = tricky_strings()
            .into_iter()
            .map(|s| (s.clone(), Value::String(s)))
            .collect();
        docs.push(Value::Array(all));
        docs.push(Value::Object(keyed));
        docs.push(json!({
            "empty_map": {}, "empty_seq": [], "null": null, "bools": [true, false],
            "numbers": [0, -1, 1.5, 1e300, -2.5e-300, u64::MAX, i64::MIN, 0.1, 100.0],
            "deep": [[[{"a": [[{"b": {"c": [{}]}}]]}]]],
            "seq_of_maps": [{"a": 1, "b": {"c": [1, {"d": "x\ny\n"}]}}, {"": ""}],
        }));
        docs.push(json!([]));
        docs.push(json!({}));
        docs.push(json!(1.0));
        docs.push(json!(null));
        docs
    }

    #[test]
    fn round_trip_tricky_strings_and_structures() {
        let docs = round_trip_documents();
        let mut dump = Vec::with_capacity(docs.len());
        for doc in &docs {
            let text = assert_round_trip(doc);
            dump.push(json!([text, doc]));
        }
        assert!(docs.len() > 600);
        write_dump("round_trip", dump);
    }

    /// Every string of up to 3 characters over an alphabet of indicators,
    /// whitespace, digits, letters of reserved words and special Unicode:
    /// as sequence items, as keys, and as top-level documents.
    #[test]
    fn round_trip_exhaustive_short_strings() {
        #[rustfmt::skip]
        const ALPHABET: &[char] = &[
            ' ', '\t', '\n', '\r', '\0', '-', '?', ':', ',', '[', '{', '#', '&', '*', '!', '|', '>',
            '\'', '"', '%', '@', '`', '~', '<', '=', '.', '+', '_', '0', '1', 'e', 'x', 'o', 'n',
            'y', 'a', 'é', '\u{85}', '\u{2028}', '\u{FEFF}',
        ];
        let mut strings = vec![String::new()];
        let mut last_len: Vec<String> = vec![String::new()];
        for _ in 0..3 {
            let mut next = Vec::with_capacity(last_len.len() * ALPHABET.len());
            for prefix in &last_len {
                for &c in ALPHABET {
                    let mut s = prefix.clone();
                    s.push(c);
                    next.push(s);
                }
            }
            strings.extend(next.iter().cloned());
            last_len = next;
        }
        let seq = Value::Array(strings.iter().cloned().map(Value::String).collect());
        let map = Value::Object(
            strings
                .iter()
                .map(|s| (s.clone(), Value::String(s.clone())))
                .collect(),
        );
        let mut dump = Vec::new();
        for doc in [&seq, &map] {
            let text = assert_round_trip(doc);
            dump.push(json!([text, doc]));
        }
        // Top-level scalars meet `---`, `...` and directives at column 0.
        for s in &strings {
            let doc = Value::String(s.clone());
            let text = assert_round_trip(&doc);
            dump.push(json!([text, doc]));
        }
        write_dump("exhaustive", dump);
    }

    #[test]
    fn output_is_deterministic() {
        let docs = round_trip_documents();
        let mut first = String::new();
        let mut second = String::new();
        for doc in &docs {
            emit(doc, &mut first);
            emit(&doc.clone(), &mut second);
        }
        assert_eq!(first, second);
    }

    /// With `YAML_EMIT_DUMP=DIR` set, writes the round-trip cases to
    /// `DIR/<name>.json` as `[[yaml_text, expected_value], ...]`, so that
    /// other YAML readers (PyYAML's `yaml.safe_load`, a YAML 1.1 reader) can
    /// be checked against the same cases.
    fn write_dump(name: &str, cases: Vec<Value>) {
        if let Some(dir) = std::env::var_os("YAML_EMIT_DUMP") {
            let path = std::path::Path::new(&dir).join(format!("{name}.json"));
            let text = Value::Array(cases).to_string();
            if let Err(e) = std::fs::write(&path, text) {
                panic!("cannot write {}: {e}", path.display());
            }
        }
    }
}
