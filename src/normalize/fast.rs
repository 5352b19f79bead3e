//! The fast path of normalisation: a span-free reader for the narrow YAML
//! that blueprints render.
//!
//! Blueprint output has a regular shape: block mappings and sequences with
//! one value per line, whose leaves are plain scalars written in the
//! blueprint and JSON written by the auto-escaper (double-quoted strings,
//! numbers, single-line flow collections). This reader turns exactly that
//! shape straight into JSON values, with no spans and no intermediate tree,
//! in one pass over the lines.
//!
//! It answers `None` for anything else: anchors, aliases, tags, block
//! scalars, single quotes, multi-line scalars and flow collections, tabs,
//! carriage returns and other characters YAML treats specially, duplicate
//! keys, documents too deep or too large, and every syntax error. The caller
//! then reads the text with the span-aware loader ([`crate::load::parse`]),
//! which gives the values or the diagnostics with their positions. So this
//! module decides how fast a document is read, never what it means: whenever
//! it answers, it answers what `load::parse` gives. The tests below, the
//! golden fixtures and the property tests (`tests/properties.rs`) check that
//! agreement on every rendered document; the fuzz target checks it on
//! arbitrary text.
//!
//! Architecture invariant: pure; no diagnostics (the slow path owns them).

use serde_json::{Map, Value as Json};

use crate::load::{plain_scalar_json, MAX_DEPTH, MAX_NODES};

/// Every non-empty document of `text`, or `None` when the text is outside
/// the shape this reader knows (then use `load::parse`).
pub fn parse(text: &str) -> Option<Vec<Json>> {
    if !ordinary_text(text) {
        return None;
    }
    let mut docs = Vec::new();
    let mut lines: Vec<Line> = Vec::new();
    for raw in crate::yaml_emit::lines(text) {
        if raw.starts_with("---") || raw.starts_with("...") || raw.starts_with('%') {
            if raw.trim_end_matches(' ') != "---" {
                // `--- value`, `...`, directives: rare, and for the loader.
                return None;
            }
            if let Some(doc) = document(&mut lines)? {
                docs.push(doc);
            }
            lines.clear();
            continue;
        }
        let content = raw.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        lines.push(Line {
            indent: raw.len() - content.len(),
            text: content.trim_end_matches(' '),
        });
    }
    if let Some(doc) = document(&mut lines)? {
        docs.push(doc);
    }
    Some(docs)
}

/// False when the text holds a character that YAML reads specially or
/// rejects (control characters, tabs, `\r`, NEL, line and paragraph
/// separators, a byte-order mark, non-characters): the loader decides those.
fn ordinary_text(text: &str) -> bool {
    // Whole chunks without an early exit, so the loop vectorises.
    let mut special = false;
    let mut ascii = true;
    for chunk in text.as_bytes().chunks(64) {
        for &b in chunk {
            special |= (b < 0x20 && b != b'\n') | (b == 0x7f);
            ascii &= b < 0x80;
        }
        if special {
            return false;
        }
    }
    ascii
        || !text.chars().any(|c| {
            ('\u{80}'..='\u{9f}').contains(&c)
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                )
        })
}

/// One content line of a document: blank and comment-only lines are gone.
#[derive(Clone, Copy)]
struct Line<'t> {
    indent: usize,
    /// The text after the indentation, trailing spaces removed.
    text: &'t str,
}

/// One document's value: `Some(None)` for an empty document (skipped, as the
/// loader skips it), `None` when the reader cannot answer.
fn document(lines: &mut [Line]) -> Option<Option<Json>> {
    let Some(first) = lines.first() else {
        return Some(None);
    };
    let indent = first.indent;
    let mut r = Reader {
        lines,
        pos: 0,
        nodes: 0,
        depth: 0,
    };
    let value = r.block(indent)?;
    // Lines left over are less indented than the first: an error.
    (r.pos == r.lines.len() && value.is_object()).then_some(Some(value))
}

struct Reader<'l, 't> {
    lines: &'l mut [Line<'t>],
    pos: usize,
    /// Scalars read (keys included), against the loader's budget.
    nodes: usize,
    /// Collections open, against the loader's depth limit.
    depth: usize,
}

/// `- x` or a lone `-`: a block sequence entry.
fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// What a block line starts with.
enum Start<'t> {
    /// `key: rest` (`rest` empty when the value is on the following lines).
    Entry(String, &'t str),
    /// Anything that is not a mapping entry.
    Value,
}

impl<'t> Reader<'_, 't> {
    fn peek(&self) -> Option<Line<'t>> {
        self.lines.get(self.pos).copied()
    }

    fn scalar(&mut self) -> Option<()> {
        self.nodes += 1;
        // Well inside the loader's budget, so the loader is the one to report it.
        (self.nodes <= MAX_NODES / 2).then_some(())
    }

    fn open(&mut self) -> Option<()> {
        self.depth += 1;
        // Well inside the loader's limit, so the loader is the one to report it.
        (self.depth < MAX_DEPTH - 8).then_some(())
    }

    /// The block collection that starts at the current line, at `indent`.
    fn block(&mut self, indent: usize) -> Option<Json> {
        let line = self.peek()?;
        if is_item(line.text) {
            self.sequence(indent)
        } else {
            self.mapping(indent)
        }
    }

    fn mapping(&mut self, indent: usize) -> Option<Json> {
        self.open()?;
        let mut map = Map::new();
        while let Some(line) = self.peek() {
            if line.indent < indent || (line.indent == indent && is_item(line.text)) {
                break;
            }
            if line.indent > indent {
                return None;
            }
            let Start::Entry(key, rest) = start(line.text)? else {
                return None;
            };
            self.pos += 1;
            self.scalar()?;
            let value = if rest.is_empty() {
                match self.peek() {
                    Some(next) if next.indent > indent => self.block(next.indent)?,
                    // An indentless sequence: `key:` then `- x` at the key's column.
                    Some(next) if next.indent == indent && is_item(next.text) => {
                        self.sequence(indent)?
                    }
                    _ => {
                        self.scalar()?;
                        Json::Null
                    }
                }
            } else {
                self.inline(rest, indent)?
            };
            if map.insert(key, value).is_some() {
                return None;
            }
        }
        self.depth -= 1;
        Some(Json::Object(map))
    }

    fn sequence(&mut self, indent: usize) -> Option<Json> {
        self.open()?;
        let mut items = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent != indent || !is_item(line.text) {
                if line.indent > indent {
                    return None;
                }
                break;
            }
            let rest = line.text[1..].trim_start_matches(' ');
            let column = indent + line.text.len() - rest.len();
            let item = if rest.is_empty() {
                self.pos += 1;
                match self.peek() {
                    Some(next) if next.indent > indent => self.block(next.indent)?,
                    _ => {
                        self.scalar()?;
                        Json::Null
                    }
                }
            } else if is_item(rest) {
                return None;
            } else {
                match start(rest)? {
                    // `- key: value`: a mapping whose first line starts here;
                    // its other keys follow at the same column.
                    Start::Entry(..) => {
                        self.lines[self.pos] = Line {
                            indent: column,
                            text: rest,
                        };
                        self.mapping(column)?
                    }
                    Start::Value => {
                        self.pos += 1;
                        self.inline(rest, indent)?
                    }
                }
            };
            items.push(item);
        }
        self.depth -= 1;
        Some(Json::Array(items))
    }

    /// A value written on its key's or dash's line, which must be all of it:
    /// a following line indented deeper would continue it (a multi-line
    /// scalar), which is for the loader.
    fn inline(&mut self, text: &str, indent: usize) -> Option<Json> {
        let (value, used) = match text.as_bytes()[0] {
            b'"' => {
                let (s, used) = double_quoted(text)?;
                self.scalar()?;
                (Json::String(s), used)
            }
            b'[' | b'{' => self.flow(text, 0)?,
            _ => {
                let plain = block_plain(text)?;
                self.scalar()?;
                (plain_scalar_json(plain), text.len())
            }
        };
        if !only_comment(&text[used..]) {
            return None;
        }
        match self.peek() {
            Some(next) if next.indent > indent => None,
            _ => Some(value),
        }
    }

    /// A flow collection (`[...]` or `{...}`) starting at `at`, all on this
    /// line; returns it and the offset after its closing bracket.
    fn flow(&mut self, text: &str, at: usize) -> Option<(Json, usize)> {
        let b = text.as_bytes();
        self.open()?;
        let mut i = skip_spaces(b, at + 1);
        let value = if b[at] == b'[' {
            let mut items = Vec::new();
            if b.get(i) != Some(&b']') {
                loop {
                    let (v, next) = self.flow_value(text, i)?;
                    items.push(v);
                    i = skip_spaces(b, next);
                    match b.get(i) {
                        Some(b',') => i = skip_spaces(b, i + 1),
                        Some(b']') => break,
                        _ => return None,
                    }
                    if matches!(b.get(i), Some(b']')) {
                        return None; // a trailing comma
                    }
                }
            }
            Json::Array(items)
        } else {
            let mut map = Map::new();
            if b.get(i) != Some(&b'}') {
                loop {
                    let (key, next) = self.flow_key(text, i)?;
                    let (v, next) = self.flow_value(text, skip_spaces(b, next))?;
                    if map.insert(key, v).is_some() {
                        return None;
                    }
                    i = skip_spaces(b, next);
                    match b.get(i) {
                        Some(b',') => i = skip_spaces(b, i + 1),
                        Some(b'}') => break,
                        _ => return None,
                    }
                    if matches!(b.get(i), Some(b'}')) {
                        return None;
                    }
                }
            }
            Json::Object(map)
        };
        self.depth -= 1;
        Some((value, i + 1))
    }

    /// A flow mapping's key and its `:`; returns the key and the offset after
    /// the colon. Keys are JSON strings (`"a":`) or simple names (`a: `).
    fn flow_key(&mut self, text: &str, at: usize) -> Option<(String, usize)> {
        let b = text.as_bytes();
        self.scalar()?;
        if b.get(at) == Some(&b'"') {
            let (key, used) = double_quoted(&text[at..])?;
            let i = skip_spaces(b, at + used);
            return (b.get(i) == Some(&b':')).then_some((key, i + 1));
        }
        let end = at
            + b[at..].iter().position(|c| {
                !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'/'))
            })?;
        // `a:b` is one plain scalar in YAML, so a plain key needs `: `.
        if end == at || b[end] != b':' || b.get(end + 1) != Some(&b' ') || b[at] == b'-' {
            return None;
        }
        Some((text[at..end].to_string(), end + 1))
    }

    /// A value inside a flow collection; returns it and the offset after it.
    fn flow_value(&mut self, text: &str, at: usize) -> Option<(Json, usize)> {
        let b = text.as_bytes();
        match *b.get(at)? {
            b'"' => {
                let (s, used) = double_quoted(&text[at..])?;
                self.scalar()?;
                Some((Json::String(s), at + used))
            }
            b'[' | b'{' => self.flow(text, at),
            _ => {
                let len = b[at..]
                    .iter()
                    .position(|c| matches!(c, b',' | b'[' | b']' | b'{' | b'}'))?;
                let plain = text[at..at + len].trim_end_matches(' ');
                if plain.is_empty() || plain.contains([':', '#']) || starts_with_indicator(plain) {
                    return None;
                }
                self.scalar()?;
                Some((plain_scalar_json(plain), at + len))
            }
        }
    }
}

/// Whether a block line is `key: ...` (and the key), or a value. `None` when
/// it is neither in a form this reader knows.
fn start(text: &str) -> Option<Start<'_>> {
    let b = text.as_bytes();
    if b[0] == b'"' {
        let (key, used) = double_quoted(text)?;
        return match b.get(used) {
            Some(b':') => after_colon(text, used).map(|rest| Start::Entry(key, rest)),
            _ => Some(Start::Value),
        };
    }
    if matches!(b[0], b'[' | b'{') {
        return Some(Start::Value);
    }
    if starts_with_indicator(text) {
        return None;
    }
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b':' if b.get(i + 1).is_none_or(|c| *c == b' ') => {
                let key = &text[..i];
                if key.ends_with(' ') || key.len() > 1024 {
                    return None;
                }
                return after_colon(text, i).map(|rest| Start::Entry(key.to_string(), rest));
            }
            // A comment before any `: `: the line is a scalar.
            b'#' if b[i - 1] == b' ' => return Some(Start::Value),
            _ => {}
        }
        i += 1;
    }
    Some(Start::Value)
}

/// The value text after a key's colon at `colon`: empty when the value is on
/// the following lines (a comment may follow the colon).
fn after_colon(text: &str, colon: usize) -> Option<&str> {
    let rest = &text[colon + 1..];
    if rest.is_empty() {
        return Some("");
    }
    if !rest.starts_with(' ') {
        return None;
    }
    let rest = rest.trim_start_matches(' ');
    Some(if rest.starts_with('#') { "" } else { rest })
}

/// A plain scalar that is the rest of a block line, up to a comment.
fn block_plain(text: &str) -> Option<&str> {
    if starts_with_indicator(text) || text.starts_with("---") || text.starts_with("...") {
        return None;
    }
    let end = text.find(" #").unwrap_or(text.len());
    let plain = text[..end].trim_end_matches(' ');
    // `a: b` inside a value, or a trailing `:`, is an error or a mapping.
    if plain.contains(": ") || plain.ends_with(':') {
        return None;
    }
    Some(plain)
}

/// Characters that cannot start a plain scalar (or start something this
/// reader leaves to the loader). `-` may start one when a non-space follows.
fn starts_with_indicator(text: &str) -> bool {
    let b = text.as_bytes();
    match b[0] {
        b'-' => b.get(1).is_none_or(|c| *c == b' '),
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
        | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' => true,
        _ => false,
    }
}

/// True when what follows a value is nothing, or spaces and a comment.
fn only_comment(rest: &str) -> bool {
    let trimmed = rest.trim_start_matches(' ');
    trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())
}

fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// A double-quoted scalar closed on this line, with JSON's escapes (the
/// ones the auto-escaper writes); returns the string and the bytes used,
/// quotes included. Other YAML escapes, and `\u` surrogates (which YAML
/// rejects), are left to the loader.
fn double_quoted(text: &str) -> Option<(String, usize)> {
    let b = text.as_bytes();
    let mut i = 1 + memchr::memchr2(b'"', b'\\', b.get(1..)?)?;
    if b[i] == b'"' {
        // No escapes: most strings.
        return Some((text[1..i].to_string(), i + 1));
    }
    // The unescaped text is never longer than the rest of the line.
    let mut out = String::with_capacity(text.len() - 1);
    let mut start = 1;
    loop {
        out.push_str(&text[start..i]);
        if b[i] == b'"' {
            return Some((out, i + 1));
        }
        // A backslash.
        let c = match *b.get(i + 1)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hex = text.get(i + 2..i + 6)?;
                if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return None;
                }
                let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                i += 4;
                c
            }
            _ => return None,
        };
        out.push(c);
        i += 2;
        start = i;
        i += memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{self, Documents};
    use crate::source::Source;
    use proptest::prelude::*;

    /// What the span-aware loader reads, as canonical JSON text (key order kept).
    fn slow(text: &str) -> Option<String> {
        let src = Source::virtual_file("t.yaml", text.to_string());
        let (nodes, diags) = load::parse(&src, Documents::Many);
        diags.is_empty().then(|| {
            let docs: Vec<Json> = nodes.iter().map(|n| n.to_json()).collect();
            serde_json::to_string(&docs).unwrap()
        })
    }

    fn fast(text: &str) -> Option<String> {
        parse(text).map(|d| serde_json::to_string(&d).unwrap())
    }

    /// The fast reader answers, and answers what the loader reads.
    #[track_caller]
    fn agrees(text: &str) {
        let f = fast(text);
        assert!(f.is_some(), "fast path declined:\n{text}");
        assert_eq!(f, slow(text), "on:\n{text}");
    }

    /// The fast reader declines (the loader decides).
    #[track_caller]
    fn declines(text: &str) {
        assert_eq!(fast(text), None, "fast path answered:\n{text}");
    }

    #[test]
    fn reads_what_blueprints_render() {
        agrees("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"a\"\n  labels: {\"app.kubernetes.io/name\":\"a\",\"x\":\"y\"}\ndata:\n  k: \"v\\n\\\"q\\\" \\u003c \\/ \\t\"\n");
        agrees("a:\n  - name: x\n    port: 80\n  -   name: y\n      port: 81\n  - [1, 2.5, -3, true, null, \"s\"]\n  -\n    b: 1\n  - plain text here\nc: {}\nd: []\n");
        agrees("a:\n- 1\n- 2\nb:\n- x: 1\n  y:\n  - z\n");
        agrees("# comment\n\n---\n---\na: 1 # trailing\nb: \"x\" # c\nc: x#y\nd:   # nothing\n---\n\ne: [ALL]\nf: nginx:1.25\ng: http://x/y?z=1\n");
        agrees("k: 0755\n0x1F: 0x1F\n~: ~\ntrue: 1e3\n\"q\": .inf\nn: -.5\nbig: 99999999999999999999\nu: \"ünïcödé ✓\"\n");
        agrees("a: {\"b\": [1, {\"c\": []}], d: \"e\", f: 1}\nlist: [a b, \"c\", -1]\n");
        agrees("a:\n  b:\n    c:\n      -\n        - x\n");
        agrees("");
        agrees("---\n# only comments\n");
    }

    #[test]
    fn declines_what_it_does_not_know() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: |\n  text\n",
            "a: >\n  text\n",
            "a: 'single'\n",
            "a: plain\n  continued\n",
            "a: \"multi\n  line\"\n",
            "a: [1,\n  2]\n",
            "a:\tb\n",
            "a: b\r\n",
            "a: 1\na: 2\n",
            "a: {b: 1, b: 2}\n",
            "a: [1, 2,]\n",
            "a: b: c\n",
            "a: b:\n",
            "? a\n: b\n",
            "- a\n",
            "scalar\n",
            "a: 1\n b: 2\n",
            "  a: 1\nb: 2\n",
            "a:\n    b: 1\n  c: 2\n",
            "a: \"x\" y\n",
            "a: \"\\x41\"\n",
            "a: \"\\ud83d\"\n",
            "a: \"\u{85}\"\n",
            "a: \"\u{feff}\"\n",
            "%YAML 1.2\n---\na: 1\n",
            "--- a: 1\n",
            "a: 1\n...\n",
            "a: - b\n",
            "a:\n  - - x\n",
            "a: {b:c}\n",
            "a : 1\n",
            "a:b\n",
        ] {
            declines(text);
        }
    }

    #[test]
    fn declined_text_that_is_valid_still_reads_the_same_through_the_loader() {
        // Whatever the fast path declines goes to the loader; nothing here
        // depends on the fast path being complete, only on it being right.
        for text in ["a: 'x'\n", "a: |\n  t\n"] {
            assert!(slow(text).is_some());
            declines(text);
        }
    }

    /// A small YAML tree, to be written in block style.
    #[derive(Debug, Clone)]
    enum Tree {
        Scalar(&'static str),
        Map(Vec<Tree>),
        Seq(Vec<Tree>),
    }

    fn tree() -> impl Strategy<Value = Tree> {
        let leaf = proptest::sample::select(SCALARS).prop_map(Tree::Scalar);
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Tree::Map),
                proptest::collection::vec(inner, 0..5).prop_map(Tree::Seq),
            ]
        })
    }

    /// Values the fast reader must read (JSON from the auto-escaper, plain
    /// blueprint text).
    const SCALARS: &[&str] = &[
        "1",
        "-2",
        "0x1F",
        "0o17",
        "1e3",
        ".5",
        "true",
        "False",
        "~",
        "null",
        ".inf",
        "plain text",
        "nginx:1.25",
        "x #c",
        "x#c",
        "\"\"",
        "\"a\\\"b\"",
        "\"\\u00e9\\n\\t\\/\"",
        "[]",
        "{}",
        "[1, \"a\", b c, -1]",
        "{\"a\":1,\"b\":[true]}",
        "{a: 1, b: {c: []}}",
        "[[[]]]",
        "{\"a\" : null}",
        "\"x\"  # c",
        "é ✓",
        "a , b",
    ];

    const KEYS: &[&str] = &["a", "app.kubernetes.io/n", "\"q x", "80", "~", "true", "k#"];

    /// Writes `t` as the value of a block line at `indent`; `flags` picks
    /// among equivalent layouts (indentless or indented sequences).
    fn write(
        t: &Tree,
        indent: usize,
        flags: &mut impl Iterator<Item = bool>,
        out: &mut Vec<String>,
        head: String,
    ) {
        let pad = " ".repeat(indent);
        match t {
            Tree::Scalar(s) => out.push(format!("{head} {s}")),
            Tree::Map(items) if items.is_empty() => out.push(format!("{head} {{}}")),
            Tree::Seq(items) if items.is_empty() => out.push(format!("{head} []")),
            Tree::Map(items) => {
                out.push(head);
                for (i, v) in items.iter().enumerate() {
                    let key = KEYS[i % KEYS.len()];
                    let key = match key.strip_prefix('"') {
                        Some(k) => format!("\"{k}{i}\""),
                        None => format!("{key}{i}"),
                    };
                    write(v, indent + 2, flags, out, format!("{pad}  {key}:"));
                }
            }
            Tree::Seq(items) => {
                out.push(head);
                let inner = if flags.next().unwrap_or(false) {
                    indent
                } else {
                    indent + 2
                };
                for v in items {
                    write(v, inner + 2, flags, out, format!("{}-", " ".repeat(inner)));
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// Block YAML of the shape blueprints render is read by the fast
        /// path, and read as the loader reads it.
        #[test]
        fn reads_block_yaml_as_the_loader_does(t in tree(), flags in proptest::collection::vec(proptest::bool::ANY, 16)) {
            let mut out = Vec::new();
            write(&Tree::Map(vec![t]), 0, &mut flags.into_iter(), &mut out, String::new());
            let text: String = out.iter().skip(1).map(|l| format!("{}\n", &l[2..])).collect();
            let f = fast(&text);
            proptest::prop_assert!(f.is_some(), "declined:\n{}", text);
            proptest::prop_assert_eq!(f, slow(&text), "on:\n{}", text);
        }

        /// The same text with one line replaced by a piece that may break
        /// it: wherever the fast reader still answers, the loader reads the
        /// same values without an error.
        #[test]
        fn never_disagrees_with_the_loader(
            t in tree(),
            at in 0usize..40,
            (indent, start, value) in (0usize..9, proptest::sample::select(LINE_STARTS), prop_oneof![proptest::sample::select(SCALARS), proptest::sample::select(BROKEN)]),
        ) {
            let mut out = Vec::new();
            write(&Tree::Map(vec![t]), 0, &mut std::iter::repeat(false), &mut out, String::new());
            let mut lines: Vec<String> = out.iter().skip(1).map(|l| l[2..].to_string()).collect();
            let piece = format!("{}{start}{value}", " ".repeat(indent));
            let at = at % (lines.len() + 1);
            if at < lines.len() && indent % 2 == 0 { lines[at] = piece } else { lines.insert(at, piece) }
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            if let Some(f) = fast(&text) {
                proptest::prop_assert_eq!(Some(f), slow(&text), "on:\n{}", text);
            }
        }
    }

    const LINE_STARTS: &[&str] = &[
        "a:", "b: ", "a: ", "\"q\": ", "\"q\":", "- ", "-", "- c: ", "-   d:", "---", "# c", "",
        "e :", "k#: ", "8080: ", "~: ", "- - ", "? ", "x", "- \"s\"", "...",
    ];

    /// Pieces that break the shape, or are not in it.
    const BROKEN: &[&str] = &[
        "",
        "-.NaN",
        "a: b",
        "a:",
        "\"\\ud83d\"",
        "\"\\x41\"",
        "\"unclosed",
        "'single'",
        "[1,]",
        "{a:1}",
        "{\"a\": 1, \"a\": 2}",
        "[",
        "&x 1",
        "*x",
        "!!str 1",
        "|",
        ">-",
        "- x",
        "\"x\" y",
        "[a] b",
        "---",
        "...",
        "@x",
        "%x",
        "[a:b]",
        "[a, b]:",
        "{\"k\": \"v\"}: 1",
        "  more",
        "\t",
    ];

    #[test]
    fn budgets_are_left_to_the_loader() {
        let deep = (0..70).fold(String::from("x"), |acc, _| format!("[{acc}]"));
        declines(&format!("a: {deep}\n"));
        let wide = vec!["1"; MAX_NODES / 2 + 1].join(",");
        declines(&format!("a: [{wide}]\n"));
    }
}
