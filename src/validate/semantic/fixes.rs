//! The `fix` a finding carries for programs (`validate --format json`, the
//! quick fixes of `paved lsp`): what to change, as data, so that a fix never
//! depends on a message's wording. Two kinds:
//!
//! - `move-to-secrets`: a literal secret in `env` becomes a `spec.secrets`
//!   entry: `{action, env, ref, from}`, `from` the JSON pointer of the `env`
//!   entry to remove, `ref` a secret-store reference derived from the
//!   service and the variable. The value itself is never part of it. Only
//!   for `spec.env`, and only when no environment sets the same variable
//!   (see [`movable`]): an environment's `env` has no fix.
//! - `pin-tag`: an image without a fixed version gets a tag the workspace
//!   already uses for the same repository: `{action, repository, tag, tags}`,
//!   `tag` the tag written now (`latest`, or null when there is none), `tags`
//!   the candidates, this spec's own first (in its order), then those of the
//!   other services by name. Without a candidate there is no fix.
//!
//! Architecture invariant: builds data from the typed model; no wording, no
//! text edits.

use serde_json::{json, Value};

use crate::model::Service;

/// The reference a literal secret moves to: `SERVICE/VARIABLE#value`, the
/// variable in lower case with `-` for `_` (`orders/db-password#value`).
pub(super) fn secret_ref(service: &str, env: &str) -> String {
    format!("{service}/{}#value", env.to_lowercase().replace('_', "-"))
}

/// The fix of a literal secret at `pointer` (`/spec/env/DB_PASSWORD`).
pub(super) fn move_to_secrets(service: &str, pointer: &str, env: &str) -> Value {
    json!({
        "action": "move-to-secrets",
        "env": env,
        "ref": secret_ref(service, env),
        "from": pointer,
    })
}

/// The `env` entry a dotted path of the spec names, as a JSON pointer and
/// the variable: `spec.env.X` only. An environment's `env` has no fix: the
/// environment has no `secrets` of its own, so a secret declared in
/// `spec.secrets` would reach every environment, and clash with a `spec.env`
/// entry of the same name.
pub(super) fn env_entry(path: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        ["spec", "env", var] => Some((format!("/spec/env/{var}"), (*var).to_string())),
        _ => None,
    }
}

/// Whether the literal at `pointer` can move to `spec.secrets` without a
/// new finding or a change of meaning: it is a `spec.env` entry, and no
/// environment sets the same variable (its override would then stand beside
/// a secret of that name).
pub(super) fn movable(s: &Service, pointer: &str, env: &str) -> bool {
    pointer.strip_prefix("/spec/env/").is_some()
        && !s
            .spec
            .environments
            .iter()
            .flat_map(|e| e.values())
            .any(|o| o.env.contains_key(env))
}

/// An image's repository (without tag and digest) and its tag.
pub(super) fn split_image(image: &str) -> (&str, Option<&str>) {
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rfind('/').map_or(0, |i| i + 1);
    match name[last..].find(':') {
        Some(i) => (&name[..last + i], Some(&name[last + i + 1..])),
        None => (name, None),
    }
}

/// Every image a spec names: `spec.image`, then each environment's override.
fn images(s: &Service) -> Vec<&str> {
    let mut out = vec![s.spec.image.as_str()];
    for o in s.spec.environments.iter().flat_map(|e| e.values()) {
        if let Some(i) = &o.image {
            out.push(i.as_str());
        }
    }
    out
}

/// The fix of the unpinned `image` of `own`, from the tags `services` use.
pub(super) fn pin_tag<'s>(
    image: &str,
    own: &'s Service,
    services: impl IntoIterator<Item = &'s Service>,
) -> Option<Value> {
    let (repository, tag) = split_image(image);
    let mut others: Vec<&Service> = services
        .into_iter()
        .filter(|s| !std::ptr::eq(*s, own))
        .collect();
    others.sort_by(|a, b| a.name().cmp(b.name()));
    let mut tags: Vec<&str> = Vec::new();
    for s in std::iter::once(own).chain(others) {
        for i in images(s) {
            let (r, t) = split_image(i);
            let Some(t) = t.filter(|t| r == repository && !t.is_empty() && *t != "latest") else {
                continue;
            };
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
    }
    (!tags.is_empty()).then(|| {
        json!({
            "action": "pin-tag",
            "repository": repository,
            "tag": tag,
            "tags": tags,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_split_into_repository_and_tag() {
        assert_eq!(split_image("ghcr.io/a/b:1.2"), ("ghcr.io/a/b", Some("1.2")));
        assert_eq!(split_image("registry:5000/b"), ("registry:5000/b", None));
        assert_eq!(
            split_image("registry:5000/b:latest@sha256:00"),
            ("registry:5000/b", Some("latest"))
        );
        assert_eq!(split_image("b@sha256:00"), ("b", None));
    }

    #[test]
    fn env_entries_of_the_spec_and_of_an_environment() {
        assert_eq!(
            env_entry("spec.env.DB_PASSWORD"),
            Some(("/spec/env/DB_PASSWORD".into(), "DB_PASSWORD".into()))
        );
        assert_eq!(env_entry("spec.environments.production.env.X"), None);
        assert_eq!(env_entry("spec.args[0]"), None);
        assert_eq!(env_entry("metadata.description"), None);
    }
}
