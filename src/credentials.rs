//! The one credential detector: which names hold a credential, which values
//! are one whatever their name, and where one sits inside longer text.
//!
//! Validation refuses what it finds in a spec, rendering refuses it in a
//! rendered object, and `diff` hides it: all three ask this module, so what
//! `render` refuses and what `diff` redacts are the same set.
//!
//! Names are compared word by word, after one normalisation: case is ignored,
//! `_`, `-`, `.` and camelCase humps separate words, and trailing digits go
//! (`DB_PASSWORD`, `dbPassword`, `db-password`, `PASSWORD1` are one name). A
//! name is a credential when its *last* word is one (`password`, `token`,
//! `pat`, `pw`…, or `key` after `api`, `signing`, `encryption`…): a name
//! whose last word says where a credential is (`secretName`, `secretKeyRef`,
//! `TOKEN_URL`, `PRIVATE_KEY_PATH`) is not one.
//!
//! Architecture invariant: pure; knows no stage, no diagnostics, no files;
//! reads names, text and JSON values only.

use std::ops::Range;

use serde_json::Value as Json;

/// What kind of credential a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `AKIA…`/`ASIA…`: an AWS access key id.
    AwsKeyId,
    /// `ghp_…`, `gho_…`, `ghs_…`, `ghu_…`, `ghr_…`, `github_pat_…`.
    GitHubToken,
    /// `glpat-…`.
    GitLabToken,
    /// `xoxa-…`, `xoxb-…`, `xoxp-…`, `xoxr-…`.
    SlackToken,
    /// `https://hooks.slack.com/services/…` (or `/workflows/`, `/triggers/`):
    /// the URL is the credential, whoever holds it can post.
    SlackWebhook,
    /// `sk_live_…`, `rk_live_…`.
    StripeKey,
    /// `AIza` and 35 more characters.
    GoogleApiKey,
    /// `-----BEGIN … PRIVATE KEY-----`.
    PrivateKey,
    /// `eyJ….eyJ….signature`.
    Jwt,
    /// `scheme://user:password@host`.
    UrlPassword,
    /// `password=…` (or `password: …` at the start of a line of a file's
    /// text): a credential name given a literal value.
    Assignment,
}

impl Kind {
    /// The kind in a few words, for messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::AwsKeyId => "an AWS access key id",
            Kind::GitHubToken => "a GitHub token",
            Kind::GitLabToken => "a GitLab token",
            Kind::SlackToken => "a Slack token",
            Kind::SlackWebhook => "a Slack webhook URL",
            Kind::StripeKey => "a Stripe secret key",
            Kind::GoogleApiKey => "a Google API key",
            Kind::PrivateKey => "a private key",
            Kind::Jwt => "a JSON Web Token",
            Kind::UrlPassword => "a password in a URL",
            Kind::Assignment => "a credential assigned a value",
        }
    }
}

/// The words of a name, lower case, trailing digits removed:
/// `AWS_SECRET_ACCESS_KEY` → aws secret access key, `DbPassword1` → db password.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for piece in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let chars: Vec<char> = piece.chars().collect();
        let mut word = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            // A hump starts a word: `dbPassword`, and `APIKey` before `Key`.
            let hump = c.is_ascii_uppercase()
                && (prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                    || (prev.is_some_and(|p| p.is_ascii_uppercase())
                        && next.is_some_and(char::is_ascii_lowercase)));
            if hump && !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            word.push(c.to_ascii_lowercase());
        }
        out.push(word);
    }
    out.iter()
        .map(|w| w.trim_end_matches(|c: char| c.is_ascii_digit()).to_string())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Last words that are a credential on their own.
const WORDS: &[&str] = &[
    "pass",
    "pw",
    "pwd",
    "pat",
    "creds",
    "credential",
    "credentials",
    "passcode",
];

/// Last words that are a credential, also at the end of a longer word
/// (`PGPASSWORD`, `accesstoken`, `clientsecret`, `sessionkey`).
const ENDINGS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "signingkey",
    "sessionkey",
    "encryptionkey",
    "masterkey",
];

/// Words that make a following `key` a credential (`SIGNING_KEY`); other
/// keys (`SORT_KEY`, `CACHE_KEY`) are not.
const KEY_KINDS: &[&str] = &[
    "api",
    "access",
    "private",
    "secret",
    "signing",
    "encryption",
    "decryption",
    "session",
    "master",
    "hmac",
    "auth",
    "ssh",
    "license",
];

/// Whether a name (an env variable, a YAML key, a flag) holds a credential:
/// `PGPASSWORD`, `DbPassword`, `DB_PW`, `PASSWORD1`, `SIGNING_KEY`,
/// `GITHUB_PAT`, `apiKey`, `client-secret`, `AWS_SECRET_ACCESS_KEY`. Names of
/// secrets (`secretName`, `secretKeyRef`, `TOKEN_URL`) and ordinary names
/// (`PASSAGE`, `BYPASS_CACHE`, `KEYCLOAK_URL`, `SORT_KEY`) are not.
pub fn is_credential_name(name: &str) -> bool {
    let w = words(name);
    let Some(last) = w.last().map(String::as_str) else {
        return false;
    };
    if WORDS.contains(&last) || ENDINGS.iter().any(|e| last.ends_with(e)) {
        return true;
    }
    last == "key" && w.len() >= 2 && KEY_KINDS.contains(&w[w.len() - 2].as_str())
}

/// Whether a whole value (surrounding blanks aside) is a credential by its
/// shape, whatever its name: a token, a key, a JWT, a URL with a password.
pub(crate) fn is_credential_value(text: &str) -> bool {
    let found = find_all(text);
    let [(r, kind)] = found.as_slice() else {
        return false;
    };
    let t = text.trim();
    let lead = text.len() - text.trim_start().len();
    match kind {
        Kind::Assignment => false,
        // The URL is the value; its password is the credential.
        Kind::UrlPassword => !t.contains(char::is_whitespace),
        _ => r.start == lead && r.end == lead + t.len(),
    }
}

/// The first credential inside a text: the byte range of the credential
/// itself (the token, the password of a URL, the value of `password=…`).
pub(crate) fn find_in_text(text: &str) -> Option<(Range<usize>, Kind)> {
    find_all(text).into_iter().next()
}

/// Every credential inside a text, in order, none overlapping.
pub(crate) fn find_all(text: &str) -> Vec<(Range<usize>, Kind)> {
    let mut found = Vec::new();
    let b = text.as_bytes();
    let alnum = |c: u8| c.is_ascii_alphanumeric();
    let token = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    // A prefix starting a run of `body` characters at least `min` long; the
    // prefix must not continue a word.
    let mut prefixed =
        |prefix: &str, body: &dyn Fn(u8) -> bool, min: usize, max: usize, kind: Kind| {
            for (at, _) in text.match_indices(prefix) {
                if at > 0 && token(b[at - 1]) {
                    continue;
                }
                let start = at + prefix.len();
                let len = b[start..].iter().take_while(|&&c| body(c)).count();
                let ends = !b.get(start + len).copied().is_some_and(alnum);
                if len >= min && len <= max && ends {
                    found.push((at..start + len, kind));
                }
            }
        };
    let upper_digit = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    for p in ["AKIA", "ASIA"] {
        prefixed(p, &upper_digit, 16, 16, Kind::AwsKeyId);
    }
    let word = |c: u8| alnum(c) || c == b'_';
    for p in ["ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"] {
        prefixed(p, &word, 16, usize::MAX, Kind::GitHubToken);
    }
    prefixed("glpat-", &token, 16, usize::MAX, Kind::GitLabToken);
    for p in ["xoxa-", "xoxb-", "xoxp-", "xoxr-"] {
        prefixed(
            p,
            &|c: u8| alnum(c) || c == b'-',
            10,
            usize::MAX,
            Kind::SlackToken,
        );
    }
    for p in ["sk_live_", "rk_live_"] {
        prefixed(p, &|c: u8| alnum(c), 10, usize::MAX, Kind::StripeKey);
    }
    prefixed("AIza", &token, 35, 35, Kind::GoogleApiKey);
    for p in [
        "https://hooks.slack.com/services/",
        "https://hooks.slack.com/workflows/",
        "https://hooks.slack.com/triggers/",
    ] {
        // The whole URL: its path is the secret, and it is used as one.
        for (at, _) in text.match_indices(p) {
            let start = at + p.len();
            let len = b[start..]
                .iter()
                .take_while(|&&c| token(c) || c == b'/')
                .count();
            if len >= 20 {
                found.push((at..start + len, Kind::SlackWebhook));
            }
        }
    }
    private_keys(text, &mut found);
    jwts(text, &mut found);
    url_passwords(text, &mut found);
    assignments(text, &mut found);
    found.sort_by_key(|(r, _)| (r.start, std::cmp::Reverse(r.end)));
    let mut out: Vec<(Range<usize>, Kind)> = Vec::new();
    for (r, k) in found {
        if out.last().is_some_and(|(p, _)| r.start < p.end) {
            continue;
        }
        out.push((r, k));
    }
    out
}

/// `-----BEGIN … PRIVATE KEY-----` up to its END line (or the end of the text).
/// Certificates and public keys are not credentials.
fn private_keys(text: &str, out: &mut Vec<(Range<usize>, Kind)>) {
    for (at, _) in text.match_indices("-----BEGIN ") {
        let label_start = at + "-----BEGIN ".len();
        let Some(len) = text[label_start..].find("-----") else {
            continue;
        };
        let label = &text[label_start..label_start + len];
        if !label.contains("PRIVATE KEY") || label.contains('\n') {
            continue;
        }
        let end_marker = format!("-----END {label}-----");
        let end = text[label_start..]
            .find(&end_marker)
            .map_or(text.len(), |i| label_start + i + end_marker.len());
        out.push((at..end, Kind::PrivateKey));
    }
}

/// `eyJ<header>.eyJ<payload>.<signature>`: a header and payload that are JSON
/// objects in base64url.
fn jwts(text: &str, out: &mut Vec<(Range<usize>, Kind)>) {
    let b = text.as_bytes();
    let seg = |from: usize| {
        b[from..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
            .count()
    };
    for (at, _) in text.match_indices("eyJ") {
        if at > 0 && (b[at - 1].is_ascii_alphanumeric() || matches!(b[at - 1], b'_' | b'-' | b'.'))
        {
            continue;
        }
        let h = seg(at);
        let p = at + h + 1;
        if h < 10 || b.get(at + h) != Some(&b'.') || !text[p..].starts_with("eyJ") {
            continue;
        }
        let pl = seg(p);
        if pl < 10 || b.get(p + pl) != Some(&b'.') {
            continue;
        }
        let s = p + pl + 1;
        out.push((at..s + seg(s), Kind::Jwt));
    }
}

/// A value that refers to a credential kept elsewhere rather than holding
/// one: `$(DB_PASSWORD)`, `${…}`, `{{ … }}`.
fn is_reference(v: &str) -> bool {
    v.starts_with('$') || v.starts_with("{{") || v.starts_with('<')
}

/// `scheme://user:password@host`: the password.
fn url_passwords(text: &str, out: &mut Vec<(Range<usize>, Kind)>) {
    let b = text.as_bytes();
    for (at, _) in text.match_indices("://") {
        let scheme = b[..at]
            .iter()
            .rev()
            .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'))
            .count();
        if scheme == 0 || !b[at - scheme].is_ascii_alphabetic() {
            continue;
        }
        let start = at + 3;
        let len = text[start..]
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '`') || c.is_whitespace()
            })
            .unwrap_or(text.len() - start);
        let authority = &text[start..start + len];
        let Some(at_sign) = authority.rfind('@') else {
            continue;
        };
        let Some(colon) = authority[..at_sign].find(':') else {
            continue;
        };
        let password = &authority[colon + 1..at_sign];
        if password.is_empty() || is_reference(password) {
            continue;
        }
        out.push((start + colon + 1..start + at_sign, Kind::UrlPassword));
    }
}

/// `NAME=VALUE` anywhere (`--token=abc`, `password=x` in a properties file,
/// `?access_token=abc` in a URL), and `NAME: VALUE` at the start of a line of
/// a text of several lines (a YAML or properties file in a ConfigMap), where
/// NAME is a credential name and VALUE is not a reference: the value.
fn assignments(text: &str, out: &mut Vec<(Range<usize>, Kind)>) {
    let b = text.as_bytes();
    let name_char = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.');
    let mut check = |name: &str, value_start: usize, to_line_end: bool| {
        let rest = &text[value_start..];
        let skip = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let v0 = value_start + skip;
        let rest = &text[v0..];
        let (from, len) = if let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
            (v0 + 1, rest[1..].find(q).unwrap_or(rest.len() - 1))
        } else if to_line_end {
            let line = rest.find(['\n', '\r']).unwrap_or(rest.len());
            (v0, rest[..line].trim_end().len())
        } else {
            let len = rest
                .find(|c: char| {
                    c.is_whitespace() || matches!(c, '&' | ';' | ',' | '"' | '\'' | ')')
                })
                .unwrap_or(rest.len());
            (v0, len)
        };
        let value = &text[from..from + len];
        // A switch, not a value: `automountServiceAccountToken: false`.
        let switch = matches!(value, "true" | "false");
        if !value.is_empty() && !switch && !is_reference(value) && is_credential_name(name) {
            out.push((from..from + len, Kind::Assignment));
        }
    };
    for (at, _) in text.match_indices('=') {
        let before = text[..at].trim_end_matches([' ', '\t']);
        let n = before.bytes().rev().take_while(|&c| name_char(c)).count();
        if n == 0 || b.get(at + 1) == Some(&b'=') {
            continue;
        }
        check(&before[before.len() - n..], at + 1, false);
    }
    if !text.trim_end().contains('\n') {
        return;
    }
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_start_matches([' ', '\t']);
        let body = body.strip_prefix("- ").unwrap_or(body);
        let n = body.bytes().take_while(|&c| name_char(c)).count();
        let after = &body[n..];
        if n > 0 && (after.starts_with(": ") || after.starts_with(":\t")) {
            let offset = line_start + (line.len() - body.len()) + n + 1;
            let v = after[1..].trim_start();
            // A nested mapping, a block scalar, an alias: not a value here.
            if !v.starts_with(['{', '[', '|', '>', '&', '*', '!', '#']) {
                check(&body[..n], offset, true);
            }
        }
        line_start += line.len();
    }
}

/// Why a value of an object is sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    /// A value of a Secret's `data` or `stringData`.
    SecretData,
    /// The value of a credential-named key (or of `value` next to a
    /// credential `name`, as in a container's env).
    Name,
    /// The value is, or holds, a credential of this kind.
    Value(Kind),
    /// `kubectl.kubernetes.io/last-applied-configuration` holding any of these.
    LastApplied,
}

/// A sensitive value of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    /// JSON pointer of the scalar.
    pub pointer: String,
    pub why: Why,
    /// The credential is only part of a longer text (see [`find_all`]).
    pub partial: bool,
}

/// The annotation `kubectl apply` keeps the whole object in, secrets included.
pub(crate) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Every sensitive scalar of a Kubernetes object (a `List`'s items each as
/// objects of their own), sorted by pointer.
pub(crate) fn in_object(v: &Json) -> Vec<Found> {
    let mut out = Vec::new();
    root(v, &mut String::new(), &mut out);
    out.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    out.dedup_by(|a, b| a.pointer == b.pointer);
    out
}

fn root(v: &Json, path: &mut String, out: &mut Vec<Found>) {
    let kind = v.get("kind").and_then(Json::as_str).unwrap_or("");
    if let (true, Some(items)) = (
        kind.ends_with("List"),
        v.get("items").and_then(Json::as_array),
    ) {
        for (i, item) in items.iter().enumerate() {
            let len = path.len();
            path.push_str(&format!("/items/{i}"));
            root(item, path, out);
            path.truncate(len);
        }
        return;
    }
    let secret = kind == "Secret" && v.get("apiVersion").and_then(Json::as_str) == Some("v1");
    // External Secrets objects only say where credentials are: their
    // `secretKey` is the name of a key, not a key. Shapes still count there.
    let names = !matches!(
        kind,
        "ExternalSecret"
            | "ClusterExternalSecret"
            | "SecretStore"
            | "ClusterSecretStore"
            | "PushSecret"
    );
    walk(v, Walk { secret, names }, 0, path, out);
}

/// Whether a `last-applied-configuration` annotation may hold a credential:
/// the object it records is a Secret (whatever its `apiVersion` says) or has
/// one, or the text is not JSON that can be checked (truncated, hand-edited),
/// in which case it is hidden rather than guessed about.
fn last_applied_holds_credentials(text: &str) -> bool {
    match serde_json::from_str::<Json>(text) {
        Ok(j) => {
            j.get("kind").and_then(Json::as_str) == Some("Secret") || !in_object(&j).is_empty()
        }
        Err(_) => true,
    }
}

/// JSON pointer segment of a key.
fn pointer_seg(k: &str) -> String {
    format!("/{}", k.replace('~', "~0").replace('/', "~1"))
}

fn is_scalar(v: &Json) -> bool {
    match v {
        Json::String(s) => !s.is_empty(),
        Json::Number(_) => true,
        _ => false,
    }
}

/// What a walk through one object knows.
#[derive(Clone, Copy)]
struct Walk {
    /// The object is a Secret.
    secret: bool,
    /// Names count here: not in labels and annotations, whose keys describe
    /// (`paved.dev/connection-secret` names a Secret), nor in External Secrets objects.
    names: bool,
}

fn walk(v: &Json, w: Walk, depth: usize, path: &mut String, out: &mut Vec<Found>) {
    let push = |out: &mut Vec<Found>, path: &str, why: Why, partial: bool| {
        out.push(Found {
            pointer: path.to_string(),
            why,
            partial,
        });
    };
    match v {
        Json::Object(m) => {
            // An env-var-like pair: `{name: DB_PASSWORD, value: hunter2}`.
            let pair = w.names
                && m.get("name")
                    .and_then(Json::as_str)
                    .is_some_and(is_credential_name);
            for (k, child) in m {
                let len = path.len();
                path.push_str(&pointer_seg(k));
                if w.secret && depth == 0 && (k == "data" || k == "stringData") {
                    every_scalar(child, path, out);
                } else if k == LAST_APPLIED
                    && child
                        .as_str()
                        .is_some_and(|s| w.secret || last_applied_holds_credentials(s))
                {
                    push(out, path, Why::LastApplied, false);
                } else if is_scalar(child)
                    && ((w.names && is_credential_name(k)) || (pair && k == "value"))
                {
                    push(out, path, Why::Name, false);
                } else {
                    let described = depth == 1
                        && (path.ends_with("/metadata/labels")
                            || path.ends_with("/metadata/annotations"));
                    let w = Walk {
                        names: w.names && !described,
                        ..w
                    };
                    walk(child, w, depth + 1, path, out);
                }
                path.truncate(len);
            }
        }
        Json::Array(a) => {
            // A command line: the item after `--password`, `--token`,
            // `--client-secret`… is the credential.
            let command_line = w.names && (path.ends_with("/args") || path.ends_with("/command"));
            let mut after_flag = false;
            for (i, child) in a.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                match child.as_str() {
                    Some(v) if after_flag && !v.is_empty() && !is_reference(v) => {
                        push(out, path, Why::Name, false);
                    }
                    _ => walk(child, w, depth + 1, path, out),
                }
                after_flag = command_line && child.as_str().is_some_and(is_credential_flag);
                path.truncate(len);
            }
        }
        Json::String(s) => {
            let found = find_all(s);
            if let Some((_, kind)) = found.first() {
                let whole = found.len() == 1 && is_credential_value(s);
                push(out, path, Why::Value(*kind), !whole);
            }
        }
        _ => {}
    }
}

/// `--password`, `--auth-token`, `-client-secret`: a flag whose value is the
/// next item of a command line (with `=`, the value is in the same item, and
/// [`find_all`] finds it).
fn is_credential_flag(item: &str) -> bool {
    let name = item.trim_start_matches('-');
    item.starts_with('-') && !name.is_empty() && !name.contains('=') && is_credential_name(name)
}

fn every_scalar(v: &Json, path: &mut String, out: &mut Vec<Found>) {
    match v {
        Json::Object(m) => {
            for (k, c) in m {
                let len = path.len();
                path.push_str(&pointer_seg(k));
                every_scalar(c, path, out);
                path.truncate(len);
            }
        }
        Json::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                every_scalar(c, path, out);
                path.truncate(len);
            }
        }
        Json::Null => {}
        _ => out.push(Found {
            pointer: path.clone(),
            why: Why::SecretData,
            partial: false,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names() {
        for n in [
            "PGPASSWORD",
            "DbPassword",
            "DB_PW",
            "PASSWORD1",
            "SIGNING_KEY",
            "ENCRYPTION_KEY",
            "GITHUB_PAT",
            "PASSWORD",
            "password",
            "DB_PASSWORD",
            "PASSWD",
            "PASS",
            "TOKEN",
            "token",
            "SECRET",
            "API_KEY",
            "STRIPE_API_KEY",
            "APIKEY",
            "PRIVATE_KEY",
            "ACCESS_KEY",
            "SECRET_KEY",
            "CREDENTIALS",
            "CLIENT_SECRET",
            "oauth_client_secret",
            "passphrase",
            "sessionkey",
            "apiKey",
            "APIKey",
            "client-secret",
            "AWS_SECRET_ACCESS_KEY",
            "authToken",
            "privateKey",
            "--token",
            "spring.datasource.password",
            "access_token",
        ] {
            assert!(is_credential_name(n), "{n} is a credential name");
        }
        for n in [
            "secretName",
            "secretKeyRef",
            "secretStoreRef",
            "SECRET_NAME",
            "TOKEN_URL",
            "tokenUrl",
            "TOKEN_TTL_SECONDS",
            "PRIVATE_KEY_PATH",
            "AWS_ACCESS_KEY_ID",
            "passwordPolicy",
            "PASSAGE",
            "BYPASS_CACHE",
            "BYPASS",
            "KEYCLOAK_URL",
            "SORT_KEY",
            "MONKEY",
            "LOG_LEVEL",
            "name",
            "PATH",
            "",
        ] {
            assert!(!is_credential_name(n), "{n} is not a credential name");
        }
    }

    const SHAPES: &[(&str, Kind)] = &[
        ("AKIAIOSFODNN7EXAMPLE", Kind::AwsKeyId),
        ("ASIAIOSFODNN7EXAMPLE", Kind::AwsKeyId),
        (
            "ghp_0123456789abcdefghijABCDEFGHIJ012345",
            Kind::GitHubToken,
        ),
        ("gho_0123456789abcdefghij", Kind::GitHubToken),
        ("ghs_0123456789abcdefghij", Kind::GitHubToken),
        ("ghu_0123456789abcdefghij", Kind::GitHubToken),
        (
            "github_pat_11ABCDEFG0123456789_abcdefghij",
            Kind::GitHubToken,
        ),
        ("glpat-0123456789abcdefghij", Kind::GitLabToken),
        ("xoxb-1234567890-abcdefghij", Kind::SlackToken),
        ("xoxp-1234567890-abcdefghij", Kind::SlackToken),
        ("xoxa-1234567890-abcdefghij", Kind::SlackToken),
        ("xoxr-1234567890-abcdefghij", Kind::SlackToken),
        ("sk_live_0123456789abcdef", Kind::StripeKey),
        (
            "AIzaSyA0123456789abcdefghijklmnopqrstuv",
            Kind::GoogleApiKey,
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
            Kind::PrivateKey,
        ),
        ("-----BEGIN PRIVATE KEY-----", Kind::PrivateKey),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            Kind::Jwt,
        ),
        ("postgres://app:pw@db/app", Kind::UrlPassword),
        ("https://user:p4ss@example.com", Kind::UrlPassword),
    ];

    #[test]
    fn credential_values() {
        for (v, kind) in SHAPES {
            assert!(is_credential_value(v), "{v} is a credential");
            assert_eq!(find_in_text(v).map(|f| f.1), Some(*kind), "{v}");
        }
        for v in [
            "info",
            "AKIA",
            "AKIAIOSFODNN7EXAMPLEX",
            "AKIAiosfodnn7example",
            "ghp_short",
            "glpat-short",
            "xoxb-1",
            "sk_test_0123456789abcdef",
            "AIzaShort",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "-----BEGIN PUBLIC KEY-----",
            "eyJhbGciOiJIUzI1NiJ9",
            "postgres://app@db/app",
            "postgres://app:$(PGPASSWORD)@db/app",
            "postgres://app:${resources.db.password}@db/app",
            "https://example.com/a:b@c",
            "ghcr.io/acme/orders:1.0.0",
            "http://localhost:8080",
        ] {
            assert!(!is_credential_value(v), "{v} is not a credential");
            assert_eq!(find_in_text(v), None, "{v}");
        }
    }

    #[test]
    fn credentials_inside_text() {
        let cases: &[(&str, &str, Kind)] = &[
            (
                "--token=ghp_0123456789abcdefghij",
                "ghp_0123456789abcdefghij",
                Kind::GitHubToken,
            ),
            ("--token=abc123", "abc123", Kind::Assignment),
            (
                "--db-password=hunter2 --verbose",
                "hunter2",
                Kind::Assignment,
            ),
            (
                "connect with AKIAIOSFODNN7EXAMPLE today",
                "AKIAIOSFODNN7EXAMPLE",
                Kind::AwsKeyId,
            ),
            (
                "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln in the header",
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
                Kind::Jwt,
            ),
            (
                "see https://bob:s3cret@wiki.acme.dev/x",
                "s3cret",
                Kind::UrlPassword,
            ),
            (
                "https://api.acme.dev/?access_token=abc&x=1",
                "abc",
                Kind::Assignment,
            ),
            (
                "server.port=8080\nspring.datasource.password=hunter2\n",
                "hunter2",
                Kind::Assignment,
            ),
            (
                "db:\n  host: db\n  password: hunter 2\n",
                "hunter 2",
                Kind::Assignment,
            ),
            (
                "key: AIzaSyA0123456789abcdefghijklmnopqrstuv\n",
                "AIzaSyA0123456789abcdefghijklmnopqrstuv",
                Kind::GoogleApiKey,
            ),
        ];
        for (text, cred, kind) in cases {
            let (r, k) = find_in_text(text).unwrap_or_else(|| panic!("nothing in {text:?}"));
            assert_eq!((&text[r], k), (*cred, *kind), "{text:?}");
        }
        for text in [
            "--password-file=/etc/app/pw",
            "--token=$(API_TOKEN)",
            "password=",
            "Reset the password: ask the platform team",
            "password: see the runbook",
            "a == b",
            "secretName=db-credentials",
            "db:\n  password: ${DB_PASSWORD}\n  user: app\n",
            "db:\n  password:\n    secretKeyRef: x\n",
            "spec:\n  automountServiceAccountToken: false\n  replicas: 1\n",
            "--insecure-skip-token=true",
        ] {
            assert_eq!(find_in_text(text), None, "{text:?}");
        }
    }

    fn pointers(v: &Json) -> Vec<String> {
        in_object(v).into_iter().map(|f| f.pointer).collect()
    }

    #[test]
    fn objects() {
        let secret = serde_json::json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db"}, "data": {"user": "YQ=="}, "stringData": {"x": "y"}});
        assert_eq!(pointers(&secret), ["/data/user", "/stringData/x"]);
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}}, secret.clone()]});
        assert_eq!(
            pointers(&list),
            ["/items/1/data/user", "/items/1/stringData/x"]
        );
        let applied = serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {
            "name": "db", "annotations": {LAST_APPLIED: secret.to_string(), "other": "x"}}});
        assert_eq!(
            pointers(&applied),
            ["/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration"]
        );
        // The recorded object is a Secret without its apiVersion, or the
        // text is not JSON: hidden all the same; a ConfigMap's is shown.
        for (text, hidden) in [
            (r#"{"kind":"Secret","data":{"p":"aGk="}}"#, true),
            (r#"{"kind":"Secret","data":{"p":"aGk="#, true),
            (
                r#"{"apiVersion":"v1","kind":"ConfigMap","data":{"a":"b"}}"#,
                false,
            ),
        ] {
            let cm = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
                "name": "c", "annotations": {LAST_APPLIED: text}}});
            assert_eq!(!pointers(&cm).is_empty(), hidden, "{text}");
        }
        let deploy = serde_json::json!({"kind": "Deployment", "spec": {"containers": [{
            "args": ["--token=abc", "--port=80"],
            "env": [{"name": "PGPASSWORD", "value": "x"}, {"name": "LOG", "value": "info"},
                    {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "t"}}}],
            "autoGeneratePassword": true, "password": ""}]}});
        let described = serde_json::json!({"kind": "List", "items": [{"kind": "Resource",
            "metadata": {"annotations": {"paved.dev/connection-secret": "db-connection",
                "note": "ghp_0123456789abcdefghij"}}},
            {"kind": "ExternalSecret", "spec": {"data": [{"secretKey": "DB_PASSWORD"}]}}]});
        assert_eq!(pointers(&described), ["/items/0/metadata/annotations/note"]);
        let found = in_object(&deploy);
        assert_eq!(
            found
                .iter()
                .map(|f| (f.pointer.as_str(), f.partial))
                .collect::<Vec<_>>(),
            [
                ("/spec/containers/0/args/0", true),
                ("/spec/containers/0/env/0/value", false)
            ]
        );
    }
    #[test]
    fn a_value_after_a_credential_flag_in_args_or_command() {
        let deploy = serde_json::json!({"kind": "Deployment", "spec": {"containers": [{
            "command": ["app", "--client-secret", "s3cr3t-value"],
            "args": ["--password", "hunter2", "--token", "abc", "--auth-token", "xyz",
                     "--port", "80", "--api-key", "$(API_KEY)", "--password"]}]}});
        assert_eq!(
            pointers(&deploy),
            [
                "/spec/containers/0/args/1",
                "/spec/containers/0/args/3",
                "/spec/containers/0/args/5",
                "/spec/containers/0/command/2",
            ]
        );
        // Elsewhere a list of words is not a command line.
        let cm = serde_json::json!({"kind": "ConfigMap", "data": {"words": ["--password", "x"]}});
        assert!(pointers(&cm).is_empty());
    }

    #[test]
    fn slack_webhook_urls() {
        let url = "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefghijklmnopqrstuvwx";
        assert!(is_credential_value(url));
        let text = format!("webhook: {url} # alerts");
        let (r, kind) = find_in_text(&text).unwrap();
        assert_eq!((&text[r], kind), (url, Kind::SlackWebhook));
        assert!(!is_credential_value("https://hooks.slack.com/services/"));
        assert!(!is_credential_value("https://slack.com/services/T0123ABCD"));
        let cm = serde_json::json!({"kind": "ConfigMap", "data": {"url": url}});
        assert_eq!(pointers(&cm), ["/data/url"]);
    }
}
