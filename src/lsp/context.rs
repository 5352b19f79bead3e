//! What is at the cursor in a YAML buffer: the keys above it, the key or
//! value under it, and the word under it. Read from the lines and their
//! indentation, so it works on a buffer that does not parse (the usual
//! state of one being typed).
//!
//! Architecture invariant: text only; knows no schema, spec or diagnostic.

/// The cursor's place in a block-style YAML document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Ctx {
    /// The mapping keys that contain the cursor's line, outermost first
    /// (list items are stepped through: `spec.ports` for a port's fields).
    pub path: Vec<String>,
    /// The key on the cursor's line and its byte range in the text.
    pub key: Option<(String, usize, usize)>,
    /// The value on the cursor's line (after `key: `, or a list item's
    /// scalar) and its byte range in the text.
    pub value: Option<(String, usize, usize)>,
    /// The cursor is where a key goes (before the line's `:`, or on a line
    /// with only indentation or a `- `).
    pub in_key: bool,
}

struct Line {
    indent: usize,
    dash: bool,
    /// Where the content after the indentation and any `- ` starts (column).
    content: usize,
    key: Option<String>,
}

fn split_line(line: &str) -> Line {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    let (dash, content) = match rest.strip_prefix('-') {
        Some(after) if after.is_empty() || after.starts_with(' ') => {
            let spaces = after.len() - after.trim_start_matches(' ').len();
            (true, indent + 1 + spaces)
        }
        _ => (false, indent),
    };
    let key = key_of(&line[content..])
        .map(|(k, _)| k.to_string())
        .or_else(|| quoted_key(&line[content..]));
    Line {
        indent,
        dash,
        content,
        key,
    }
}

/// The key of a `"key": value` or `'key':` content, unquoted (a double-
/// quoted key with an escape other than `\"` or `\\` is left out).
fn quoted_key(content: &str) -> Option<String> {
    let q = content.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let mut key = String::new();
    let mut chars = content[1..].char_indices();
    let end = loop {
        let (i, c) = chars.next()?;
        match c {
            '\\' if q == '"' => match chars.next()? {
                (_, e @ ('"' | '\\')) => key.push(e),
                _ => return None,
            },
            '\'' if q == '\'' => {
                if content[1 + i + 1..].starts_with('\'') {
                    chars.next();
                    key.push('\'');
                } else {
                    break 1 + i + 1;
                }
            }
            c if c == q => break 1 + i + 1,
            c => key.push(c),
        }
    };
    let rest = content[end..].trim_start_matches(' ');
    let after = rest.strip_prefix(':')?;
    (after.is_empty() || after.starts_with([' ', '\t'])).then_some(key)
}

/// The key of a `key: value` or `key:` content, and where its `:` is.
fn key_of(content: &str) -> Option<(&str, usize)> {
    if content.starts_with(['#', '{', '[', '"', '\'', '&', '*', '!', '|', '>']) {
        return None;
    }
    let b = content.as_bytes();
    for (i, c) in content.char_indices() {
        if c == '#' && i > 0 && b[i - 1] == b' ' {
            return None;
        }
        if c == ':' && (i + 1 == b.len() || b[i + 1] == b' ') {
            let k = content[..i].trim_end();
            return (!k.is_empty()).then_some((k, i));
        }
    }
    None
}

fn is_blank(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

/// The lines of `text` with their byte offsets.
fn lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    for l in text.split_inclusive('\n') {
        out.push((start, l.trim_end_matches(['\n', '\r'])));
        start += l.len();
    }
    if text.is_empty() || text.ends_with('\n') {
        out.push((start, ""));
    }
    out
}

/// The context at byte `offset` of `text`.
pub(crate) fn at(text: &str, offset: usize) -> Ctx {
    let all = lines(text);
    let Some(n) = all
        .iter()
        .rposition(|(start, _)| *start <= offset)
        .or(Some(0))
    else {
        return Ctx::default();
    };
    let Some(&(start, line)) = all.get(n) else {
        return Ctx::default();
    };
    let col = offset.saturating_sub(start).min(line.len());
    let here = split_line(line);
    let mut ctx = Ctx::default();
    // The cursor line: a key, a value, or a place for a key.
    let content = &line[here.content.min(line.len())..];
    match key_of(content) {
        Some((k, colon)) => {
            let k_start = start + here.content;
            ctx.key = Some((k.to_string(), k_start, k_start + k.len()));
            let after = &content[colon + 1..];
            let v = after.trim_start();
            let v_off = here.content + colon + 1 + (after.len() - v.len());
            let v = strip_comment(v).trim_end();
            if !v.is_empty() || col > here.content + colon {
                ctx.value = Some((v.to_string(), start + v_off, start + v_off + v.len()));
            }
            ctx.in_key = col <= here.content + colon;
        }
        None => {
            let v = strip_comment(content).trim_end();
            if v.is_empty() {
                ctx.in_key = true;
            } else if here.dash {
                let s = start + here.content;
                ctx.value = Some((v.to_string(), s, s + v.len()));
            } else {
                // A key being typed (no `:` yet).
                let s = start + here.content;
                ctx.key = Some((v.to_string(), s, s + v.len()));
                ctx.in_key = true;
            }
        }
    }
    // The keys above: each a line less indented than the last one found.
    let blank_here = line.trim().is_empty();
    let mut limit = if blank_here { col } else { here.content };
    let mut equal_ok = false;
    if here.dash && !blank_here {
        limit = here.indent;
        equal_ok = true;
    }
    let mut path = Vec::new();
    for &(_, l) in all[..n].iter().rev() {
        if is_blank(l) {
            continue;
        }
        let s = split_line(l);
        if s.dash && s.content <= limit {
            if s.content < limit {
                if let Some(k) = &s.key {
                    path.push(k.clone());
                }
            }
            limit = s.indent;
            equal_ok = true;
            continue;
        }
        if !s.dash && (s.indent < limit || (equal_ok && s.indent == limit)) {
            if let Some(k) = s.key {
                path.push(k);
                limit = s.indent;
                equal_ok = false;
            }
            if s.indent == 0 {
                break;
            }
        }
    }
    path.reverse();
    ctx.path = path;
    ctx
}

/// The keys already in the block mapping where a key goes at `offset`,
/// from the other lines: those at the column the cursor's key takes (its
/// line's content, or the cursor on a blank line), up to a line less
/// indented. A list item is a mapping of its own: a `- ` line at that column
/// starts one, so the keys of the other items do not count, and a new item
/// (`- ` with nothing after it yet) has none.
pub(crate) fn siblings(text: &str, offset: usize) -> Vec<String> {
    let all = lines(text);
    let Some(n) = all.iter().rposition(|(start, _)| *start <= offset) else {
        return Vec::new();
    };
    let (start, line) = all[n];
    let here = split_line(line);
    let col = if line.trim().is_empty() {
        offset.saturating_sub(start).min(line.len())
    } else {
        here.content
    };
    let mut out = Vec::new();
    // Upwards, unless the cursor's line starts the item.
    if !(here.dash && here.content == col) {
        for &(_, l) in all[..n].iter().rev() {
            if is_blank(l) {
                continue;
            }
            let s = split_line(l);
            if s.content == col {
                out.extend(s.key);
                if s.dash {
                    break;
                }
            } else if s.indent < col {
                break;
            }
        }
    }
    // Downwards, to the next item or a line less indented.
    for &(_, l) in &all[n + 1..] {
        if is_blank(l) {
            continue;
        }
        let s = split_line(l);
        if s.content == col && !s.dash {
            out.extend(s.key);
        } else if s.indent < col || (s.dash && s.content == col) {
            break;
        }
    }
    out
}

fn strip_comment(s: &str) -> &str {
    let b = s.as_bytes();
    for (i, c) in s.char_indices() {
        if c == '#' && (i == 0 || b[i - 1] == b' ') {
            return &s[..i];
        }
    }
    s
}

/// The word under the cursor: the run of characters around `offset` that
/// are not spaces, quotes, commas or brackets, and its byte range.
pub(crate) fn word(text: &str, offset: usize) -> (&str, usize, usize) {
    let stop = |c: char| c.is_whitespace() || "\"',[]{}".contains(c);
    let offset = offset.min(text.len());
    let mut a = offset;
    while a > 0 && text.is_char_boundary(a) {
        match text[..a].chars().next_back() {
            Some(c) if !stop(c) => a -= c.len_utf8(),
            _ => break,
        }
    }
    let mut b = offset;
    while b < text.len() {
        match text[b..].chars().next() {
            Some(c) if !stop(c) => b += c.len_utf8(),
            _ => break,
        }
    }
    (&text[a..b], a, b)
}

/// The `${…}` placeholder around `offset`: its inside (up to the cursor
/// when not closed) and the byte range of the inside.
pub(crate) fn placeholder(text: &str, offset: usize) -> Option<(&str, usize, usize)> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let open = text[line_start..offset].rfind("${")? + line_start + 2;
    if text[open..offset].contains('}') {
        return None;
    }
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let close = text[offset..line_end]
        .find('}')
        .map_or(offset, |i| offset + i);
    Some((&text[open..close], open, close))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "metadata:\n  name: orders\nspec:\n  image: x\n  ports:\n    - name: http\n      port: 80\n  dependsOn:\n    - component:inventory\n  environments:\n    staging:\n      size: medium\n  \n";

    fn at_text(marker: &str, delta: usize) -> Ctx {
        at(SPEC, SPEC.find(marker).unwrap() + delta)
    }

    #[test]
    fn keys_values_and_paths() {
        let c = at_text("name: orders", 1);
        assert_eq!(c.path, ["metadata"]);
        assert_eq!(c.key.as_ref().unwrap().0, "name");
        assert!(c.in_key);
        let c = at_text("orders", 2);
        assert!(!c.in_key);
        assert_eq!(c.value.as_ref().unwrap().0, "orders");
        let c = at_text("port: 80", 1);
        assert_eq!(c.path, ["spec", "ports"]);
        assert_eq!(c.key.as_ref().unwrap().0, "port");
        let c = at_text("name: http", 1);
        assert_eq!(c.path, ["spec", "ports"]);
        let c = at_text("component:", 3);
        assert_eq!(c.path, ["spec", "dependsOn"]);
        assert_eq!(c.value.as_ref().unwrap().0, "component:inventory");
        let c = at_text("size: medium", 9);
        assert_eq!(c.path, ["spec", "environments", "staging"]);
        assert_eq!(c.key.as_ref().unwrap().0, "size");
        // The last, indented, empty line: a key of `spec`.
        let c = at(SPEC, SPEC.len() - 1);
        assert_eq!(c.path, ["spec"]);
        assert!(c.in_key);
        let c = at("spec:\n  ports:\n  - name: a\n    port: 1\n", 30);
        assert_eq!(c.path, ["spec", "ports"]);
    }

    #[test]
    fn siblings_are_the_other_keys_of_the_same_mapping() {
        let t = "spec:\n  image: x\n  ports:\n    - name: a\n      \n      port: 1\n    - \n  size: s\n";
        let at = |m: &str, d: usize| siblings(t, t.find(m).unwrap() + d);
        assert_eq!(at("  image", 2), ["ports", "size"]);
        assert_eq!(at("name: a\n      \n", 14), ["name", "port"]);
        assert_eq!(at("    - \n", 6), Vec::<String>::new());
        assert_eq!(at("port: 1", 1), ["name"]);
        let t = "spec:\n  ports:\n  - name: a\n    \n  - port: 2\n  image: x\n  \n";
        assert_eq!(siblings(t, t.find("    \n").unwrap() + 4), ["name"]);
        assert_eq!(siblings(t, t.len() - 1), ["image", "ports"]);
    }

    #[test]
    fn quoted_keys_are_siblings_by_their_value() {
        let t = "spec:\n  image: x\n  \"ports\": [{name: http, port: 1}]\n  'env': {A: b}\n  \"it's\" : 1\n  \n";
        assert_eq!(siblings(t, t.len() - 1), ["it's", "env", "ports", "image"]);
    }

    #[test]
    fn words_and_placeholders() {
        let t = "  dependsOn: [component:inv, x]\n  A: \"${resources.db.u}\"\n";
        let (w, _, _) = word(t, t.find("inv").unwrap());
        assert_eq!(w, "component:inv");
        let o = t.find(".u}").unwrap() + 2;
        let (p, _, _) = placeholder(t, o).unwrap();
        assert_eq!(p, "resources.db.u");
        assert!(placeholder(t, t.find("A:").unwrap()).is_none());
    }
}
