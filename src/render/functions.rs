//! Functions and filters that blueprints may call, beyond minijinja's built-ins,
//! and the bounds on every filter and function a blueprint can call.
//!
//! Kept small and pure: anything a blueprint could compute itself stays in the
//! blueprint, so platform teams can read and override it.
//!
//! minijinja's fuel pays for every instruction and for the data a render
//! creates, but a built-in filter or function builds its whole result before
//! the engine charges for it: one `split` of a long string, one `join` or
//! `tojson` of a lazily repeated list (`[x] * 100000000`) allocated gigabytes.
//! So every filter and function that can build more than it is given is
//! registered here under its own name, around minijinja's own: the size of
//! its result is worked out first (without building it), and a call whose
//! result would be longer than [`MAX_STRING`] bytes or hold more than
//! [`MAX_ITEMS`] items, or more than the render's fuel can still pay for, is
//! refused. See SECURITY.md for the bounds as a whole.

use std::fmt;

use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error, ErrorKind, State};

use super::layout::{fit, fnv1a};

/// The longest string a filter or function may build: as much as one
/// blueprint may output for one instance (`render::MAX_OUTPUT`).
pub(crate) const MAX_STRING: usize = 4 * 1024 * 1024;
/// The most items a filter or function may put in one list (or read from
/// one): minijinja's own limit on `range()`.
pub(super) const MAX_ITEMS: usize = 100_000;
/// The deepest JSON `pretty_json` lays out, as deep as YAML input may nest.
pub(super) const MAX_JSON_DEPTH: usize = crate::load::MAX_DEPTH;
/// Bytes one unit of minijinja fuel pays for (its `UNITS_PER_FUEL`).
pub(super) const BYTES_PER_FUEL: u64 = 64;
/// What minijinja charges for one list slot, in bytes (its `SLOT_COST`).
const SLOT_BYTES: usize = 32;

/// Marks a refused call, so the diagnostic can say a value was too large
/// (`paved::blueprint::value-too-large`) rather than that the blueprint failed.
#[derive(Debug)]
pub(super) struct TooLarge;

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a blueprint value is over Paved's limits")
    }
}

impl std::error::Error for TooLarge {}

/// True when `e` is a call refused by the bounds of this module.
pub(super) fn is_too_large(e: &Error) -> bool {
    std::error::Error::source(e).is_some_and(|s| s.is::<TooLarge>())
}

fn too_large(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message).with_source(TooLarge)
}

/// Checks that `what` may build a string of `bytes` bytes.
fn afford_bytes(state: &State, what: &str, bytes: usize) -> Result<(), Error> {
    if bytes > MAX_STRING {
        return Err(too_large(format!(
            "`{what}` would build a string of more than {} MiB",
            MAX_STRING >> 20
        )));
    }
    afford_fuel(state, bytes)
}

/// Checks that `what` may build a list of `items` items.
fn afford_items(state: &State, what: &str, items: usize) -> Result<(), Error> {
    if items > MAX_ITEMS {
        return Err(too_large(format!(
            "`{what}` would build a list of more than {MAX_ITEMS} items"
        )));
    }
    afford_fuel(state, items.saturating_mul(SLOT_BYTES))
}

/// The fuel left must pay for `bytes` more bytes: a result is refused before
/// it is built, as minijinja refuses `'x' * n` and `a ~ b`.
fn afford_fuel(state: &State, bytes: usize) -> Result<(), Error> {
    match state.fuel_levels() {
        Some((_, left)) if bytes as u64 >= left.saturating_mul(BYTES_PER_FUEL) => {
            Err(Error::from(ErrorKind::OutOfFuel))
        }
        _ => Ok(()),
    }
}

/// Counts what is written, and fails past a limit: how long a value's text
/// is, found without building it.
struct Count {
    n: usize,
    limit: usize,
}

impl fmt::Write for Count {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.n += s.len();
        if self.n > self.limit {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

impl std::io::Write for Count {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.n += b.len();
        // `tojson` escapes these in strings as `\u003c` and so on.
        self.n += 5 * b
            .iter()
            .filter(|c| matches!(c, b'<' | b'>' | b'&' | b'\''))
            .count();
        if self.n > self.limit {
            Err(std::io::Error::other("over the limit"))
        } else {
            Ok(b.len())
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The length of `v` as text (what `~`, `string` and every string argument
/// make of it), or `None` when it is longer than `limit`. Lazy lists are
/// not walked past the limit: every item writes at least a separator.
fn text_len(v: &Value, limit: usize) -> Option<usize> {
    if let Some(s) = v.as_str() {
        return (s.len() <= limit).then_some(s.len());
    }
    if min_text_len(v, limit, 0) > limit {
        return None;
    }
    let mut c = Count { n: 0, limit };
    fmt::write(&mut c, format_args!("{v}")).ok().map(|()| c.n)
}

/// At least how long `v` is as text, or anything past `limit` once it is
/// known to be longer: found by walking it, every item counted at least its
/// separator, so a long list is refused without being walked to its end
/// (formatting it would visit every item even after the output is refused).
/// Values nested more than [`MAX_JSON_DEPTH`] levels count as too long.
fn min_text_len(v: &Value, limit: usize, depth: usize) -> usize {
    let over = limit.saturating_add(1);
    if depth > MAX_JSON_DEPTH {
        return over;
    }
    if let Some(s) = v.as_str() {
        return s.len();
    }
    let is_map = match v.kind() {
        ValueKind::Map => true,
        ValueKind::Seq | ValueKind::Iterable => false,
        _ => return 1,
    };
    // Formatting does not iterate what has no length.
    let Some(len) = v.len() else { return 2 };
    if len.saturating_mul(2) > limit {
        return over;
    }
    let Ok(items) = v.try_iter() else { return 2 };
    let mut n = 2;
    for item in items {
        n += 2 + min_text_len(&item, limit - n.min(limit), depth + 1);
        if is_map {
            let value = v.get_item(&item).unwrap_or_default();
            n = n.saturating_add(2 + min_text_len(&value, limit - n.min(limit), depth + 1));
        }
        if n > limit {
            return over;
        }
    }
    n
}

/// The length of `v` as JSON (`tojson`, `escape`, `{{ v }}`), at most, with
/// `indent` spaces per level when laid out, or `None` past `limit`.
fn json_len(v: &Value, indent: usize, limit: usize) -> Option<usize> {
    let mut c = Count { n: 0, limit };
    if indent == 0 {
        serde_json::to_writer(&mut c, v).ok()?;
        return Some(c.n);
    }
    // Laid out, each value starts a line indented by its depth: count the
    // lines and the depth with a one-space indent, then scale.
    let mut one = Count { n: 0, limit };
    serde_json::to_writer(&mut one, v).ok()?;
    let compact = one.n;
    let mut spaced = Count { n: 0, limit };
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut spaced, formatter);
    serde::Serialize::serialize(v, &mut ser).ok()?;
    let indentation = spaced.n.saturating_sub(compact);
    let n = compact.saturating_add(indentation.saturating_mul(indent));
    (n <= limit).then_some(n)
}

/// How many items `v` holds when it is a list, mapping or other iterable
/// (a lazy one is not iterated when its length is known), up to one past
/// [`MAX_ITEMS`]; `None` for anything else.
fn items_of(v: &Value) -> Option<usize> {
    match v.kind() {
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => Some(
            v.len()
                .unwrap_or_else(|| v.try_iter().map_or(0, |it| it.take(MAX_ITEMS + 1).count())),
        ),
        _ => None,
    }
}

/// Checks the items of `v` when it holds any.
fn afford_items_of(state: &State, what: &str, v: &Value) -> Result<usize, Error> {
    let n = items_of(v).unwrap_or(0);
    afford_items(state, what, n)?;
    Ok(n)
}

/// The text length of `v`, refused past [`MAX_STRING`] (any argument a
/// filter turns into a string).
fn afford_text(state: &State, what: &str, v: &Value) -> Result<usize, Error> {
    match text_len(v, MAX_STRING) {
        Some(n) => {
            afford_fuel(state, n)?;
            Ok(n)
        }
        None => afford_bytes(state, what, MAX_STRING + 1).map(|()| 0),
    }
}

fn arg(args: &[Value], i: usize) -> Option<&Value> {
    args.get(i).filter(|v| !v.is_kwargs())
}

/// A keyword argument, or the positional one at `i`.
fn arg_or_kw(args: &[Value], i: usize, key: &str) -> Option<Value> {
    if let Some(v) = arg(args, i) {
        return Some(v.clone());
    }
    args.last()
        .filter(|v| v.is_kwargs())
        .and_then(|kw| kw.get_attr(key).ok())
        .filter(|v| !v.is_undefined())
}

fn as_count(v: Option<Value>) -> Option<usize> {
    v.and_then(|v| v.as_i64())
        .map(|n| usize::try_from(n).unwrap_or(0))
}

/// Every filter that can build more than it is given, with how to size its
/// result from its arguments before it runs.
type Check = fn(&State, &str, &[Value]) -> Result<(), Error>;

fn checks() -> Vec<(&'static str, Value, Check)> {
    use minijinja::filters as f;
    let text_out: Check = |state, name, args| {
        let v = args.first().unwrap_or(&Value::UNDEFINED);
        afford_text(state, name, v).map(drop)
    };
    vec![
        ("safe", Value::from_function(f::safe), text_out),
        ("string", Value::from_function(f::string), text_out),
        (
            "trim",
            Value::from_function(f::trim),
            |state, name, args| afford_text(state, name, &args[0]).map(drop),
        ),
        ("escape", Value::from_function(f::escape), check_json),
        ("e", Value::from_function(f::escape), check_json),
        ("tojson", Value::from_function(f::tojson), check_json),
        (
            "pprint",
            Value::from_function(f::pprint),
            |state, name, args| {
                let v = &args[0];
                if min_text_len(v, MAX_STRING, 0) > MAX_STRING {
                    return afford_bytes(state, name, MAX_STRING + 1);
                }
                let mut c = Count {
                    n: 0,
                    limit: MAX_STRING,
                };
                let n = fmt::write(&mut c, format_args!("{v:#?}")).map_or(MAX_STRING + 1, |()| c.n);
                afford_bytes(state, name, n)
            },
        ),
        ("lower", Value::from_function(f::lower), check_case),
        ("upper", Value::from_function(f::upper), check_case),
        ("title", Value::from_function(f::title), check_case),
        (
            "capitalize",
            Value::from_function(f::capitalize),
            check_case,
        ),
        (
            "indent",
            Value::from_function(f::indent),
            |state, name, args| {
                let n = afford_text(state, name, &args[0])?;
                let width = as_count(arg_or_kw(args, 1, "width")).unwrap_or(4);
                let lines = args[0].as_str().map_or(1, |s| s.matches('\n').count() + 1);
                afford_bytes(state, name, n.saturating_add(lines.saturating_mul(width)))
            },
        ),
        (
            "join",
            Value::from_function(f::join),
            |state, name, args| {
                let items = afford_items_of(state, name, &args[0])?;
                let sep = match arg_or_kw(args, 1, "d") {
                    Some(sep) => afford_text(state, name, &sep)?,
                    None => 0,
                };
                let mut n = sep.saturating_mul(items.saturating_sub(1));
                afford_bytes(state, name, n)?;
                if let Ok(iter) = args[0].try_iter() {
                    for item in iter {
                        let left = MAX_STRING.saturating_sub(n);
                        n = n.saturating_add(text_len(&item, left).unwrap_or(MAX_STRING + 1));
                        afford_bytes(state, name, n)?;
                    }
                }
                Ok(())
            },
        ),
        (
            "split",
            Value::from_function(f::split),
            |state, name, args| {
                afford_text(state, name, &args[0])?;
                let text = args[0].to_string();
                let sep = arg_or_kw(args, 1, "split").filter(|v| !v.is_none());
                let items = match sep.as_ref().and_then(Value::as_str) {
                    Some("") => text.chars().count() + 2,
                    Some(sep) => text.matches(sep).count() + 1,
                    None => text.split_whitespace().count(),
                };
                let items = match as_count(arg_or_kw(args, 2, "maxsplits")) {
                    Some(max) => items.min(max.saturating_add(1)),
                    None => items,
                };
                afford_items(state, name, items)
            },
        ),
        (
            "lines",
            Value::from_function(f::lines),
            |state, name, args| {
                afford_text(state, name, &args[0])?;
                let lines = args[0].as_str().map_or(1, |s| s.matches('\n').count() + 1);
                afford_items(state, name, lines)
            },
        ),
        (
            "list",
            Value::from_function(f::list),
            |state, name, args| {
                let n = match args[0].as_str() {
                    Some(s) => s.chars().count(),
                    None => items_of(&args[0]).unwrap_or(0),
                };
                afford_items(state, name, n)
            },
        ),
        ("reverse", Value::from_function(f::reverse), check_iterable),
        ("sort", Value::from_function(f::sort), check_sorted),
        ("dictsort", Value::from_function(f::dictsort), check_sorted),
        (
            "items",
            Value::from_function(f::items),
            |state, name, args| {
                check_iterable(state, name, args)?;
                let n = afford_items_of(state, name, &args[0])?;
                afford_items(state, name, n.saturating_mul(3))
            },
        ),
        ("unique", Value::from_function(f::unique), check_sorted),
        ("groupby", Value::from_function(f::groupby), check_sorted),
        ("select", Value::from_function(f::select), check_items),
        ("reject", Value::from_function(f::reject), check_items),
        (
            "selectattr",
            Value::from_function(f::selectattr),
            check_items,
        ),
        (
            "rejectattr",
            Value::from_function(f::rejectattr),
            check_items,
        ),
        ("map", Value::from_function(f::map), check_items),
        (
            "batch",
            Value::from_function(f::batch),
            |state, name, args| {
                // Filling pads the last group to the full size.
                let n = afford_items_of(state, name, &args[0])?;
                let size = as_count(arg(args, 1).cloned()).unwrap_or(1).max(1);
                let filled = arg(args, 2).is_some_and(|v| !v.is_none());
                let total = if filled {
                    n.div_ceil(size).saturating_mul(size)
                } else {
                    n
                };
                afford_items(state, name, total)
            },
        ),
        (
            "slice",
            Value::from_function(f::slice),
            |state, name, args| {
                // One list per slice, each padded by one when filling.
                let n = afford_items_of(state, name, &args[0])?;
                let count = as_count(arg(args, 1).cloned()).unwrap_or(1);
                afford_items(state, name, n.saturating_add(count.saturating_mul(2)))
            },
        ),
        (
            "chain",
            Value::from_function(f::chain),
            |state, name, args| {
                let mut n = 0usize;
                for v in args.iter().filter(|v| !v.is_kwargs()) {
                    n = n.saturating_add(items_of(v).unwrap_or(0));
                    afford_items(state, name, n)?;
                }
                Ok(())
            },
        ),
        ("zip", Value::from_function(f::zip), |state, name, args| {
            let n = args
                .iter()
                .map(|v| items_of(v).unwrap_or(0))
                .min()
                .unwrap_or(0);
            afford_items(state, name, n)
        }),
        ("sum", Value::from_function(f::sum), |state, name, args| {
            // Strings and lists add up: a string as long as all of them.
            let items = afford_items_of(state, name, &args[0])?;
            let start = arg_or_kw(args, 2, "start");
            if start.as_ref().is_none_or(Value::is_number) {
                return Ok(());
            }
            let mut bytes = 0usize;
            let mut slots = 0usize;
            for item in args[0].try_iter()?.take(items) {
                match item.as_str() {
                    Some(s) => bytes = bytes.saturating_add(s.len()),
                    None => slots = slots.saturating_add(items_of(&item).unwrap_or(0)),
                }
                afford_bytes(state, name, bytes)?;
                afford_items(state, name, slots)?;
            }
            Ok(())
        }),
        (
            "format",
            Value::from_function(f::format),
            |state, name, args| {
                let fmt_len = afford_text(state, name, &args[0])?;
                let mut n = fmt_len;
                for v in args.iter().skip(1) {
                    n = n.saturating_add(text_len(v, MAX_STRING).unwrap_or(MAX_STRING + 1));
                    afford_bytes(state, name, n)?;
                }
                Ok(())
            },
        ),
    ]
}

/// `escape`, `tojson`: the value as JSON, laid out when `tojson` is given an
/// indent.
fn check_json(state: &State, name: &str, args: &[Value]) -> Result<(), Error> {
    let indent = as_count(arg_or_kw(args, 1, "indent")).unwrap_or(0);
    let n = json_len(&args[0], indent, MAX_STRING).unwrap_or(MAX_STRING + 1);
    afford_bytes(state, name, n)
}

/// `lower`, `upper`, `title`, `capitalize`: a character may change case into
/// up to three (`ß` → `SS`, `ŉ` → `ʼN`), each up to three bytes longer.
fn check_case(state: &State, name: &str, args: &[Value]) -> Result<(), Error> {
    let n = afford_text(state, name, &args[0])?;
    let ascii = args[0].as_str().is_some_and(str::is_ascii);
    afford_bytes(state, name, if ascii { n } else { n.saturating_mul(3) })
}

fn check_replace(state: &State, name: &str, args: &[Value]) -> Result<(), Error> {
    let n = afford_text(state, name, &args[0])?;
    let (Some(from), Some(to)) = (arg(args, 1), arg(args, 2)) else {
        return Ok(());
    };
    afford_text(state, name, from)?;
    let to_len = afford_text(state, name, to)?;
    let from = from.to_string();
    let text = args[0].to_string();
    let times = if from.is_empty() {
        text.chars().count() + 1
    } else {
        text.matches(from.as_str()).count()
    };
    let grows = to_len.saturating_sub(from.len());
    afford_bytes(state, name, n.saturating_add(times.saturating_mul(grows)))
}

/// `reverse`, `items`: as minijinja registers them, an undefined value is an
/// error (blueprints run with strict undefined values).
fn check_iterable(state: &State, name: &str, args: &[Value]) -> Result<(), Error> {
    if args[0].is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            format!("`{name}` of an undefined value"),
        ));
    }
    check_items(state, name, args)
}

fn check_items(state: &State, name: &str, args: &[Value]) -> Result<(), Error> {
    afford_items_of(state, name, &args[0]).map(drop)
}

/// Sorting compares each item with about log2(n) others: charged as fuel.
fn check_sorted(state: &State, name: &str, args: &[Value]) -> Result<(), Error> {
    let n = afford_items_of(state, name, &args[0])?;
    let log = (usize::BITS - n.leading_zeros()) as u64;
    state.consume_fuel((n as u64).saturating_mul(log))
}

/// JSON text laid out as `serde_json::to_string_pretty` lays it out (2-space
/// indent, one value per line, `{}` and `[]` when empty), with every key,
/// string and number kept exactly as written: what `pretty_json` gives
/// blueprints that build JSON (Grafana dashboards). The text is checked to be
/// one JSON value without building it, then laid out in one pass over its
/// tokens; a key written twice in one object is an error, since readers
/// disagree on which one wins.
#[cfg(test)]
pub(crate) fn pretty_json(text: &str) -> Result<String, String> {
    pretty_json_within(text, MAX_STRING).map_err(|e| e.0)
}

/// Why `pretty_json` refused a text: the message, and whether the text was
/// too large (nested too deeply, or laid out longer than the limit) rather
/// than not JSON.
#[derive(Debug)]
pub(super) struct JsonRefused(pub String, pub bool);

/// [`pretty_json`], refusing JSON nested more than [`MAX_JSON_DEPTH`] levels
/// or laid out in more than `limit` bytes: indentation grows with depth, so
/// a short text of nested brackets would otherwise lay out into gigabytes.
pub(super) fn pretty_json_within(text: &str, limit: usize) -> Result<String, JsonRefused> {
    let invalid = |m: String| JsonRefused(m, false);
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map_err(|e| invalid(format!("not valid JSON: {e}")))?;
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
        if out.len() > limit {
            return Err(JsonRefused(
                format!(
                    "`pretty_json` would lay this JSON out in more than {} MiB",
                    limit >> 20
                ),
                true,
            ));
        }
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
                    if open.len() >= MAX_JSON_DEPTH {
                        return Err(JsonRefused(
                            format!("`pretty_json` lays out JSON nested at most {MAX_JSON_DEPTH} levels deep; this is nested deeper"),
                            true,
                        ));
                    }
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
                        return Err(invalid("not valid JSON: a string is not closed".into()));
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
                        return Err(invalid(format!(
                            "the key {token} appears twice in one JSON object"
                        )));
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
    if out.len() > limit {
        return Err(JsonRefused(
            format!(
                "`pretty_json` would lay this JSON out in more than {} MiB",
                limit >> 20
            ),
            true,
        ));
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

/// Marks a `{{ value }}` whose JSON alone is more than a blueprint may
/// output, refused before it is written out.
#[derive(Debug)]
pub(super) struct OutputFull;

impl fmt::Display for OutputFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("blueprint output limit reached")
    }
}

impl std::error::Error for OutputFull {}

/// True when `e` is a `{{ value }}` refused for its size.
pub(super) fn is_output_full(e: &Error) -> bool {
    std::error::Error::source(e).is_some_and(|s| s.is::<OutputFull>())
}

/// A string argument of one of the filters below, refused past the limits.
fn text_arg(state: &State, what: &str, v: &Value) -> Result<String, Error> {
    afford_text(state, what, v)?;
    Ok(v.as_str().map_or_else(|| v.to_string(), str::to_string))
}

/// `text` without line marks, when the blueprints carry them.
fn unmark(marked: bool, text: String) -> String {
    if marked {
        super::trace::marks::strip(&text).0
    } else {
        text
    }
}

/// Registers the filters and functions. `marked`: the blueprints carry line
/// marks (`paved trace` only), which the filters that read text as data
/// (`pretty_json`, `hash`, `fit`) drop first.
pub(super) fn register(env: &mut Environment<'static>, marked: bool) {
    // `{{ value }}` writes the value as JSON (auto-escaping), which minijinja
    // builds as one string before writing it: its length is found first, and
    // more than a blueprint may output is refused. Safe strings are written
    // as they are, and the output buffer stops them.
    env.set_formatter(|out, state, value| {
        // Strings short enough even with every character escaped (`\u0001`),
        // and numbers, need no counting.
        let small = match value.as_str() {
            Some(s) => value.is_safe() || s.len() <= super::env::MAX_OUTPUT / 8,
            None => !matches!(
                value.kind(),
                ValueKind::Seq | ValueKind::Map | ValueKind::Iterable | ValueKind::Plain
            ),
        };
        if !small && json_len(value, 0, super::env::MAX_OUTPUT).is_none() {
            return Err(Error::new(
                ErrorKind::WriteFailure,
                "this value alone is more than a blueprint may output",
            )
            .with_source(OutputFull));
        }
        minijinja::escape_formatter(out, state, value)
    });
    for (name, builtin, check) in checks() {
        env.add_filter(
            name,
            move |state: &mut State, args: Rest<ValueOrKwargs>| -> Result<Value, Error> {
                let args = args.into_values();
                if !args.is_empty() {
                    check(state, name, &args)?;
                }
                builtin.call(state, &args)
            },
        );
    }
    // `replace(old, new, count)`: minijinja's, sized first; with a count
    // (which its public function does not take), done here.
    let replace = Value::from_function(minijinja::filters::replace);
    env.add_filter(
        "replace",
        move |state: &mut State, args: Rest<ValueOrKwargs>| -> Result<Value, Error> {
            let args = args.into_values();
            if args.len() < 3 {
                return replace.call(state, &args);
            }
            check_replace(state, "replace", &args)?;
            let Some(count) = arg_or_kw(&args, 3, "count") else {
                return replace.call(state, &args);
            };
            let count = count
                .as_i64()
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(usize::MAX);
            let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
            Ok(Value::from(text(&args[0]).replacen(
                &text(&args[1]),
                &text(&args[2]),
                count,
            )))
        },
    );
    // Tests that turn their arguments into strings.
    for (name, builtin) in [
        (
            "startingwith",
            Value::from_function(minijinja::tests::is_startingwith),
        ),
        (
            "endingwith",
            Value::from_function(minijinja::tests::is_endingwith),
        ),
    ] {
        env.add_test(
            name,
            move |state: &mut State, args: Rest<ValueOrKwargs>| -> Result<bool, Error> {
                let args = args.into_values();
                for v in args.iter() {
                    afford_text(state, name, v)?;
                }
                Ok(builtin.call(state, &args)?.is_true())
            },
        );
    }
    // Functions: `range` is minijinja's, at most 100 000 items; `dict` and
    // `namespace` copy a mapping, which must be of a size a filter could build.
    let globals: Vec<(String, Value)> = env
        .globals()
        .map(|(name, v)| (name.to_string(), v))
        .collect();
    for (name, builtin) in globals {
        if name != "dict" && name != "namespace" {
            continue;
        }
        env.add_function(
            name.clone(),
            move |state: &mut State, args: Rest<ValueOrKwargs>| -> Result<Value, Error> {
                let args = args.into_values();
                for v in args.iter() {
                    afford_items_of(state, &name, v)?;
                }
                builtin.call(state, &args)
            },
        );
    }
    // `debug()` writes out the whole context (for a platform blueprint, the
    // whole fleet) as one string; blueprints render YAML, where it has no use.
    env.add_function("debug", |_: Rest<ValueOrKwargs>| -> Result<Value, Error> {
        Err(Error::new(
            ErrorKind::InvalidOperation,
            "`debug()` is not available in blueprints; write the value you need with `{{ value }}`",
        ))
    });
    // `{{ ("paved-" ~ name) | fit(40) }}`: Grafana uids, label values.
    env.add_filter(
        "fit",
        move |state: &State, s: &Value, max: usize| -> Result<String, Error> {
            Ok(fit(&unmark(marked, text_arg(state, "fit", s)?), max))
        },
    );
    // `{{ text | hash }}`: 16 hex digits, stable across runs and machines.
    env.add_filter(
        "hash",
        move |state: &State, s: &Value| -> Result<String, Error> {
            Ok(format!(
                "{:016x}",
                fnv1a(&unmark(marked, text_arg(state, "hash", s)?))
            ))
        },
    );
    // `{{ dashboard_text | pretty_json }}`: a blueprint writes JSON as text (each
    // `{{ value }}` in it is already JSON); this checks it parses and lays it out
    // one key per line, so it lands in Git as a readable block that diffs line by
    // line. Broken JSON is a blueprint error naming the line and column.
    env.add_filter(
        "pretty_json",
        move |state: &State, s: &Value| -> Result<String, Error> {
            let text = unmark(marked, text_arg(state, "pretty_json", s)?);
            let out = pretty_json_within(&text, MAX_STRING).map_err(|e| {
                if e.1 {
                    too_large(e.0)
                } else {
                    Error::new(ErrorKind::InvalidOperation, e.0)
                }
            })?;
            afford_fuel(state, out.len())?;
            Ok(out)
        },
    );
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

    #[test]
    fn pretty_json_refuses_deep_nesting_and_long_layouts() {
        let deep = format!("{}{}", "[".repeat(70), "]".repeat(70));
        let err = pretty_json_within(&deep, MAX_STRING).unwrap_err();
        assert!(err.1 && err.0.contains("64 levels"), "{err:?}");
        let ok = format!("{}{}", "[".repeat(60), "]".repeat(60));
        assert!(pretty_json(&ok).is_ok());
        let wide = format!("[{}]", vec!["[[[1]]]"; 1000].join(","));
        assert!(pretty_json_within(&wide, 1000).unwrap_err().1);
        assert!(!pretty_json_within("[1,", 1000).unwrap_err().1);
    }

    /// Renders `source` with the blueprint environment's filters.
    fn render(source: &str) -> Result<String, Error> {
        let mut env = Environment::new();
        env.set_fuel(Some(crate::render::FUEL));
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Json);
        register(&mut env, false);
        env.render_str(source, ())
    }

    #[test]
    fn filters_refuse_results_over_the_limits_before_building_them() {
        for source in [
            "{{ ('x,' * 200000) | split(',') | length }}",
            "{{ (['x'] * 10000000) | join(',') | length }}",
            "{{ ('x' * 1000000) | replace('x', 'yyyyy') | length }}",
            "{{ ('x' * 5000000) | list | length }}",
            "{{ (['x'] * 100000000) | string | length }}",
            "{{ (['x'] * 100000000) | tojson | length }}",
            "{{ ('\n' * 1000000) | indent(10) | length }}",
            "{{ [1] | batch(1000000, 0) | length }}",
            "{{ ('[' * 100 ~ ']' * 100) | pretty_json }}",
        ] {
            let err = render(source).unwrap_err();
            assert!(is_too_large(&err), "{source}: {err:?}");
        }
        // Within the limits, the built-in filters behave as before.
        assert_eq!(
            render("{{ 'a,b' | split(',') | join('-') | upper }}").unwrap(),
            "\"A-B\""
        );
        assert_eq!(
            render("{{ [3, 1, 2] | sort | tojson(indent=2) | length }}").unwrap(),
            "17"
        );
        assert_eq!(
            render("{{ {'b': 1, 'a': 2} | dictsort | map(attribute=1) | list }}").unwrap(),
            "[2,1]"
        );
        assert_eq!(
            render("{{ 'aaa' | replace('a', 'b', 2) }}|{{ 'aaa' | replace('a', 'b') }}").unwrap(),
            "\"bba\"|\"bbb\""
        );
        assert!(render("{{ nothing | reverse }}").is_err());
    }

    #[test]
    fn printing_a_value_larger_than_the_output_is_refused_first() {
        let err = render("{{ ['xxxxxxxxxx'] * 100000000 }}").unwrap_err();
        assert!(is_output_full(&err), "{err:?}");
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
