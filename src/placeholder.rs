//! `${...}` placeholders in `env` values.
//!
//! Shared by `validate::semantic` (which reports bad ones at their exact
//! column) and `model` (which turns good ones into values or secret
//! references). `$${` writes a literal `${`.
//!
//! Architecture invariant: syntax only; knows no model and no diagnostic.

/// The keys of a resource type's connection secret: what
/// `${resources.NAME.KEY}` may name. The table is `resource_types`.
pub use crate::resource_types::connection_keys;

/// The name of the Secret holding a resource's connection details.
pub(crate) fn connection_secret(resource: &str) -> String {
    format!("{resource}-connection")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    /// A placeholder: its dotted path and its byte range in the value (`${` to `}`).
    Ref {
        path: Vec<String>,
        start: usize,
        end: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub start: usize,
    pub end: usize,
    pub message: String,
}

/// Splits a value into literal text and placeholders.
pub(crate) fn parse(value: &str) -> Result<Vec<Piece>, SyntaxError> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = value;
    let mut offset = 0;
    while let Some(i) = rest.find('$') {
        text.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(r) = after.strip_prefix("$${") {
            text.push_str("${");
            rest = r;
            offset += i + 3;
            continue;
        }
        if !after.starts_with("${") {
            text.push('$');
            rest = &after[1..];
            offset += i + 1;
            continue;
        }
        let start = offset + i;
        let Some(close) = after.find('}') else {
            return Err(SyntaxError {
                start,
                end: value.len(),
                message: "this placeholder is not closed with `}`".into(),
            });
        };
        let inner = &after[2..close];
        let end = start + close + 1;
        if inner.is_empty() || inner.contains("${") {
            return Err(SyntaxError {
                start,
                end,
                message: "a placeholder must name a value, like `${resources.db.url}`".into(),
            });
        }
        let path: Vec<String> = inner.split('.').map(|s| s.trim().to_string()).collect();
        if path.iter().any(String::is_empty) || inner.chars().any(char::is_whitespace) {
            return Err(SyntaxError {
                start,
                end,
                message: format!("`{inner}` is not a valid placeholder path"),
            });
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
        }
        pieces.push(Piece::Ref { path, start, end });
        rest = &after[close + 1..];
        offset = end;
    }
    text.push_str(rest);
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_refs_and_escapes() {
        let p = parse("a${resources.db.url}b$${x}$5").unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(
            p[1],
            Piece::Ref {
                path: vec!["resources".into(), "db".into(), "url".into()],
                start: 1,
                end: 20
            }
        );
        assert_eq!(p[2], Piece::Text("b${x}$5".into()));
    }

    #[test]
    fn reports_unclosed_and_empty() {
        assert_eq!(parse("x ${resources.db").unwrap_err().start, 2);
        assert!(parse("${}").is_err());
        assert!(parse("${a..b}").is_err());
    }
}
