//! Line marks: a blueprint copy whose raw-text lines end in an invisible
//! mark (template id and line), and the stripping of those marks from
//! rendered text into a table of output line → blueprint line.
//!
//! A mark is four private-use characters: [`MARK`], then the template id
//! and the line (two base-4096 digits), each as `U+E000 + n`. Marks go only
//! at the end of raw-text lines, never inside `{{ }}`, `{% %}`, `{# #}` or a
//! `{% raw %}` block, and never where they would change what whitespace
//! control or `trim_blocks` removes: not after a block or comment tag, not
//! after a tag closed with `-`, not on a blank line, and not before a line
//! whose first tag opens with `-`. Stripped, the output is byte for byte the
//! output of the unmarked blueprint (a test renders every fixture both ways).

/// The first character of a mark.
pub(crate) const MARK: char = '\u{F8FE}';
const BASE: u32 = 0xE000;

fn digit(n: usize) -> char {
    char::from_u32(BASE + (n as u32 % 4096)).unwrap_or(MARK)
}

fn mark(id: usize, line: usize) -> String {
    [MARK, digit(id), digit(line / 4096), digit(line % 4096)]
        .iter()
        .collect()
}

/// How the last tag on the current line closed.
#[derive(Clone, Copy, PartialEq)]
enum Closed {
    Nothing,
    /// `}}` without `-`.
    Var,
    /// `%}`, `#}`, or any tag closed with `-`.
    Trimming,
}

/// Where `close` ends a `{{ }}` or `{% %}` tag's body, skipping string
/// literals (a `"}}"` inside a tag does not close it).
fn tag_end(body: &str, close: &str) -> Option<usize> {
    let b = body.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        match quote {
            Some(q) => {
                if b[i] == b'\\' {
                    i += 1;
                } else if b[i] == q {
                    quote = None;
                }
            }
            None if b[i] == b'"' || b[i] == b'\'' => quote = Some(b[i]),
            None if body[i..].starts_with(close) => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

/// `text` with a mark at the end of every raw-text line that can carry one.
pub(crate) fn instrument(text: &str, id: usize) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len() * 2);
    let mut i = 0;
    let mut line = 1;
    let mut line_start = 0;
    let mut closed = Closed::Nothing;
    let mut after_tag = 0; // where raw text resumed on this line
    let mut in_raw_block = false;
    let mut copied = 0;
    while i < b.len() {
        if in_raw_block {
            if text[i..].starts_with("{%") {
                if let Some(end) = text[i..].find("%}") {
                    let inner = text[i + 2..i + end].trim_matches(|c: char| c == '-' || c == '+');
                    if inner.trim() == "endraw" {
                        in_raw_block = false;
                    }
                    line += text[i..i + end].matches('\n').count();
                    i += end + 2;
                    closed = Closed::Trimming;
                    after_tag = i;
                    continue;
                }
            }
            if b[i] == b'\n' {
                line += 1;
                line_start = i + 1;
                closed = Closed::Nothing;
                after_tag = i + 1;
            }
            i += 1;
            continue;
        }
        let opener = if b[i] == b'{' && i + 1 < b.len() {
            match b[i + 1] {
                b'{' => Some("}}"),
                b'%' => Some("%}"),
                b'#' => Some("#}"),
                _ => None,
            }
        } else {
            None
        };
        if let Some(close) = opener {
            let found = if close == "#}" {
                text[i + 2..].find(close)
            } else {
                tag_end(&text[i + 2..], close)
            };
            let Some(end) = found else {
                break; // unterminated: the template errors either way
            };
            let inner = &text[i + 2..i + 2 + end];
            let stop = i + 2 + end + 2;
            line += inner.matches('\n').count();
            closed = if close == "}}" && !inner.ends_with('-') {
                Closed::Var
            } else {
                Closed::Trimming
            };
            if close == "%}" {
                let word = inner
                    .trim_matches(|c: char| c == '-' || c == '+')
                    .split_whitespace()
                    .next();
                if word == Some("raw") {
                    in_raw_block = true;
                }
            }
            i = stop;
            after_tag = i;
            continue;
        }
        if b[i] == b'\n' {
            let tail = &text[after_tag.max(line_start)..i];
            let blank_tail = tail.trim().is_empty();
            let whole_blank = text[line_start..i].trim().is_empty();
            let ok = match closed {
                Closed::Nothing => !whole_blank,
                Closed::Var => true,
                Closed::Trimming => !blank_tail,
            };
            let next = text[i + 1..].trim_start_matches([' ', '\t']);
            let strips_left =
                next.starts_with("{%-") || next.starts_with("{{-") || next.starts_with("{#-");
            if ok && !strips_left {
                out.push_str(&text[copied..i]);
                out.push_str(&mark(id, line));
                copied = i;
            }
            line += 1;
            line_start = i + 1;
            closed = Closed::Nothing;
            after_tag = i + 1;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// Rendered text without its marks, and for every output line (0-based) the
/// `(template id, line)` that wrote it: the line's first mark, else the next
/// mark in the text (the template line that ended it).
pub(crate) fn strip(text: &str) -> (String, Vec<Option<(usize, usize)>>) {
    let mut out = String::with_capacity(text.len());
    let mut lines: Vec<Option<(usize, usize)>> = vec![None];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == MARK {
            let d: Vec<usize> = chars
                .by_ref()
                .take(3)
                .map(|c| (c as u32).saturating_sub(BASE) as usize)
                .collect();
            if let [id, hi, lo] = d[..] {
                // The first mark wins: a template whose last newline was
                // eaten (a macro output through `indent`) wrote the text;
                // the caller's mark only ends the line.
                if let Some(last @ None) = lines.last_mut() {
                    *last = Some((id, hi * 4096 + lo));
                }
            }
            continue;
        }
        out.push(c);
        if c == '\n' {
            lines.push(None);
        }
    }
    let mut next = None;
    for l in lines.iter_mut().rev() {
        match l {
            Some(_) => next = *l,
            None => *l = next,
        }
    }
    (out, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_raw_lines_and_var_lines_only() {
        let t = "a: 1\n{% if x %}\nb: {{ y }}\n\n{#- c #}\nd: e\n";
        let m = instrument(t, 3);
        let (back, lines) = strip(&m);
        assert_eq!(back, t);
        assert_eq!(lines[0], Some((3, 1)));
        assert_eq!(lines[2], Some((3, 3)));
        // `{% if %}` ends a line with no mark; the blank line before `{#-`
        // stays unmarked so the left strip still removes it.
        assert!(!m.split('\n').nth(1).unwrap_or("").contains(MARK));
        assert!(!m.split('\n').nth(3).unwrap_or("").contains(MARK));
    }

    #[test]
    fn nothing_inside_tags_or_raw_blocks() {
        let t = "{% raw %}\nx: {{ a }}\n{% endraw %}\n{{ b\n }}\n";
        let m = instrument(t, 0);
        assert!(!m[..m.find("{% endraw").unwrap_or(0)].contains(MARK));
        assert_eq!(strip(&m).0, t);
    }

    #[test]
    fn a_tag_closer_inside_a_string_does_not_end_the_tag() {
        let t = "a: {{ \"{{\" ~ x ~ \"}}\" }}\nb: 1\n";
        let m = instrument(t, 0);
        assert!(m.contains("\"}}\" }}\u{F8FE}"), "{m:?}");
        assert_eq!(strip(&m).0, t);
    }

    #[test]
    fn lines_without_a_mark_take_the_next_one() {
        let (_, lines) = strip(&format!("a\nb{}\n", mark(1, 7)));
        assert_eq!(lines[0], Some((1, 7)));
        assert_eq!(lines[1], Some((1, 7)));
    }
}
