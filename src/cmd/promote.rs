//! `paved promote`: moves a release (the platform's `promotion.releaseFields`,
//! `image` by default) from one environment into another's override in each
//! selected `platform.yaml`, as the smallest text edit (`edit`), after
//! checking the whole workspace with the edited texts in memory; and
//! `paved promote --list`: per service, the release fields that differ
//! between environments.
//!
//! Architecture invariant: the command gathers, checks and prints; the text
//! edit is `edit`'s, the comparison `emit::diff`'s and the write
//! `emit::write::replace_specs`'s (only the spec files, each atomically, and
//! all or nothing).

use std::path::PathBuf;

use serde_json::{json, Value as Json};

use crate::app::{self, Fault, Inputs, Output};
use crate::codes;
use crate::diag::{Diagnostic, Format};
use crate::emit::diff::{self as semantic, Options};
use crate::emit::write::SpecEdit;
use crate::load::Node;
use crate::model::{Platform, Service};

#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Service names; with `list`, spec paths.
    pub targets: Vec<String>,
    pub all: bool,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `--image`: this image instead of the source environment's.
    pub image: Option<String>,
    pub dry_run: bool,
    pub config: Option<PathBuf>,
    /// `text` or `json`.
    pub format: Format,
    pub list: bool,
}

/// One field set in one spec.
struct Step {
    field: String,
    old: Option<Json>,
    new: Json,
}

/// One spec's edit.
struct Edit<'c> {
    service: &'c Service,
    steps: Vec<Step>,
    text: String,
}

pub(crate) fn run(s: &Settings, out: &Output) -> Result<bool, Fault> {
    if s.list {
        return list(s, out);
    }
    let inputs = Inputs {
        paths: vec![],
        config: s.config.clone(),
        ..Inputs::default()
    };
    let before = app::compile(&inputs, true)?;
    if before.failed() {
        app::report(&before.diags, out);
        eprintln!("paved: the workspace has errors; fix them before promoting");
        return Ok(false);
    }
    let Some(platform) = before.platform.as_ref() else {
        app::report(&before.diags, out);
        return Ok(false);
    };
    let to =
        s.to.as_deref()
            .ok_or_else(|| Fault("`paved promote` needs `--to ENV`".into()))?;
    known_env(platform, to, "--to")?;
    let from = match (&s.from, &s.image) {
        (Some(f), _) => {
            known_env(platform, f, "--from")?;
            Some(f.as_str())
        }
        (None, Some(_)) => None,
        (None, None) => {
            return Err(Fault(
                "`paved promote` needs `--from ENV` (or `--image REF` to set a new image)".into(),
            ))
        }
    };
    if from == Some(to) {
        return Err(Fault(format!(
            "`--from` and `--to` are both `{to}`; a promotion moves a release between two environments"
        )));
    }
    if s.image.is_some() && (s.all || s.targets.len() > 1) {
        return Err(Fault(
            "`--image` sets one image, so it takes one service; name the service (not `--all`)"
                .into(),
        ));
    }
    let services = pick(&before.services, s)?;
    let fields = &platform.promotion.release_fields;

    // Refusals first: every one is reported, and nothing is written.
    let mut refusals = Vec::new();
    for svc in &services {
        for env in [Some(to), from].into_iter().flatten() {
            if !runs_in(svc, env) {
                refusals.push(not_in(svc, env));
            }
        }
    }
    let mut edits = Vec::new();
    for svc in &services {
        if !(runs_in(svc, to) && from.is_none_or(|f| runs_in(svc, f))) {
            continue;
        }
        let mut steps = Vec::new();
        for field in fields {
            let new = match (field.as_str(), &s.image, from) {
                ("image", Some(img), _) => Some(Json::String(img.clone())),
                (_, _, Some(f)) => effective(&svc.doc, f, field).map(|(v, _)| v),
                _ => None,
            };
            let Some(new) = new else { continue };
            let old = effective(&svc.doc, to, field).map(|(v, _)| v);
            if old.as_ref() == Some(&new) {
                continue;
            }
            if field == "image" {
                if let Some(d) = out_of_order(platform, svc, to, &new) {
                    refusals.push(d);
                }
            }
            steps.push(Step {
                field: field.clone(),
                old,
                new,
            });
        }
        if !steps.is_empty() {
            edits.push(Edit {
                service: svc,
                steps,
                text: svc.source.text.clone(),
            });
        }
    }
    if !refusals.is_empty() {
        crate::diag::sort(&mut refusals);
        app::report(&refusals, out);
        return Ok(false);
    }
    // The text edits; a value that cannot be edited safely is refused, with
    // every other refusal, before anything is written.
    for e in &mut edits {
        for step in &e.steps {
            match crate::edit::set_override(&e.text, to, &step.field, &step.new) {
                Ok(text) => e.text = text,
                Err(why) => {
                    refusals.push(cannot_edit(e, to, step, why));
                    break;
                }
            }
        }
    }
    if !refusals.is_empty() {
        crate::diag::sort(&mut refusals);
        app::report(&refusals, out);
        eprintln!("paved: nothing was written");
        return Ok(false);
    }

    // The workspace with the edited texts, checked and rendered in memory.
    let overlay: app::Edits = edits
        .iter()
        .map(|e| (e.service.source.path.clone(), e.text.clone()))
        .collect();
    let after = app::compile_over(&inputs, true, &overlay)?;
    if after.failed() {
        app::report(&after.diags, out);
        eprintln!("paved: the promoted specs would have errors; nothing was written");
        return Ok(false);
    }
    // A promotion changes a release, never where a service runs: a spec
    // without `environments` runs everywhere, and writing one override
    // there would take it out of every other environment.
    let runs = |c: &app::Compiled| -> std::collections::BTreeSet<(String, String)> {
        c.instances
            .iter()
            .map(|i| (i.name.clone(), i.environment.name.clone()))
            .collect()
    };
    let lost: Vec<(String, String)> = runs(&before).difference(&runs(&after)).cloned().collect();
    if !lost.is_empty() {
        for (service, env) in &lost {
            eprintln!(
                "paved: promoting would take `{service}` out of `{env}`: its spec has no `environments` block, so it runs in every environment"
            );
        }
        eprintln!(
            "paved: list the environments it runs in first (e.g. `environments: {{{}}}`), then promote again; nothing was written",
            platform
                .environments
                .keys()
                .map(|e| format!("{e}: {{}}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(false);
    }
    let (old_files, d1) = app::render_in_memory(&before);
    let (new_files, d2) = app::render_in_memory(&after);
    for d in [d1, d2] {
        if crate::diag::count_errors(&d) > 0 {
            app::report(&d, out);
            eprintln!("paved: the promoted specs would not render; nothing was written");
            return Ok(false);
        }
    }
    let report = match super::diff::compare(
        &old_files,
        &new_files,
        ("before", "after"),
        platform,
        &Options::default(),
        None,
    ) {
        Ok(r) => r,
        Err(d) => {
            app::report(&d, out);
            return Ok(false);
        }
    };
    let spec_diff: String = edits
        .iter()
        .map(|e| {
            let name = &e.service.source.name;
            similar::TextDiff::from_lines(&e.service.source.text, &e.text)
                .unified_diff()
                .context_radius(2)
                .header(&format!("a/{name}"), &format!("b/{name}"))
                .to_string()
        })
        .collect();

    if !s.dry_run {
        let specs: Vec<SpecEdit<'_>> = edits
            .iter()
            .map(|e| SpecEdit {
                path: &e.service.source.path,
                name: &e.service.source.name,
                read: &e.service.source.text,
                text: &e.text,
            })
            .collect();
        crate::emit::write::replace_specs(&specs).map_err(|w| Fault(w.0))?;
    }
    // `--quiet`: errors only; a machine format is always printed whole.
    if out.quiet && s.format != Format::Json {
        return Ok(true);
    }
    let from_shown = from.map_or_else(|| "--image".to_string(), str::to_string);
    let text = match s.format {
        Format::Json => {
            let promotions: Vec<Json> = edits
                .iter()
                .flat_map(|e| {
                    e.steps.iter().map(|st| {
                        json!({
                            "service": e.service.name(),
                            "file": e.service.source.name,
                            "field": st.field,
                            "old": st.old,
                            "new": st.new,
                        })
                    })
                })
                .collect();
            let rendered: Json =
                serde_json::from_str(&semantic::json(&report)).unwrap_or(Json::Null);
            let doc = json!({
                "from": from,
                "to": to,
                "dryRun": s.dry_run,
                "written": if s.dry_run { 0 } else { edits.len() },
                "promotions": promotions,
                "specDiff": spec_diff,
                "renderedDiff": rendered,
            });
            format!("{doc:#}\n")
        }
        _ => {
            let mut t = format!(
                "promote {from_shown} → {to}: {}\n",
                app::plural(edits.len(), "service")
            );
            for e in &edits {
                for st in &e.steps {
                    t.push_str(&format!(
                        "  {} ({}): {} {} → {}\n",
                        e.service.name(),
                        e.service.source.name,
                        st.field,
                        st.old.as_ref().map_or("(unset)".to_string(), shown),
                        shown(&st.new)
                    ));
                }
            }
            if edits.is_empty() {
                t.push_str(
                    "  nothing to do: every selected service already runs this release there\n",
                );
            } else {
                t.push('\n');
                t.push_str(&spec_diff);
                t.push('\n');
                t.push_str(&semantic::text(&report, out.color));
            }
            t.push_str(&if s.dry_run {
                "dry run: nothing written\n".to_string()
            } else {
                format!("wrote {}\n", app::plural(edits.len(), "spec"))
            });
            t
        }
    };
    app::print_stdout(&text)?;
    Ok(true)
}

fn shown(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An environment of the platform, or a usage error naming the closest one.
fn known_env(p: &Platform, env: &str, flag: &str) -> Result<(), Fault> {
    if p.environments.contains_key(env) {
        return Ok(());
    }
    let names: Vec<&str> = p.environments.keys().map(String::as_str).collect();
    let hint = crate::validate::schema::did_you_mean(env, &names)
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default();
    Err(Fault(format!(
        "unknown environment `{}` for {flag}: the platform has {}{hint}",
        crate::workspace::escape(env),
        names.join(", ")
    )))
}

/// The services named (or, with `--all`, every one), in name order.
fn pick<'c>(services: &'c [Service], s: &Settings) -> Result<Vec<&'c Service>, Fault> {
    let mut picked: Vec<&Service> = if s.all {
        if !s.targets.is_empty() {
            return Err(Fault("`--all` takes no service names".into()));
        }
        let to = s.to.as_deref().unwrap_or_default();
        services
            .iter()
            .filter(|svc| runs_in(svc, to))
            .filter(|svc| s.from.as_deref().is_none_or(|f| runs_in(svc, f)))
            .collect()
    } else {
        if s.targets.is_empty() {
            return Err(Fault(
                "`paved promote` needs service names, or `--all`".into(),
            ));
        }
        let names: Vec<&str> = services.iter().map(Service::name).collect();
        s.targets
            .iter()
            .map(|t| {
                services.iter().find(|svc| svc.name() == t).ok_or_else(|| {
                    let hint = crate::validate::schema::did_you_mean(t, &names)
                        .map(|n| format!("; did you mean `{n}`?"))
                        .unwrap_or_default();
                    Fault(format!(
                        "no service `{}` in the workspace{hint}",
                        crate::workspace::escape(t)
                    ))
                })
            })
            .collect::<Result<_, _>>()?
    };
    picked.sort_by(|a, b| a.name().cmp(b.name()));
    picked.dedup_by(|a, b| a.name() == b.name());
    Ok(picked)
}

/// Whether a service runs in an environment: `environments` lists it, or
/// is absent.
fn runs_in(svc: &Service, env: &str) -> bool {
    svc.spec
        .environments
        .as_ref()
        .is_none_or(|envs| envs.contains_key(env))
}

/// A field's value in an environment: the override, else the service's own;
/// with the node it was read from.
fn effective<'n>(doc: &'n Node, env: &str, field: &str) -> Option<(Json, &'n Node)> {
    let esc = |s: &str| s.replace('~', "~0").replace('/', "~1");
    doc.pointer(&format!("/spec/environments/{}/{}", esc(env), esc(field)))
        .or_else(|| doc.pointer(&format!("/spec/{}", esc(field))))
        .map(|(n, _)| (n.to_json(), n))
}

/// A value the text edit cannot change safely (an anchored value that
/// aliases repeat, a value in a shape the edit does not know), located in
/// the text being edited.
fn cannot_edit(e: &Edit<'_>, to: &str, step: &Step, why: crate::edit::Refusal) -> Diagnostic {
    let (field, new) = (step.field.as_str(), &step.new);
    let src = &e.service.source;
    let d = Diagnostic::error(
        codes::PROMOTE_CANNOT_EDIT,
        format!(
            "cannot set `{field}` of `{to}` in `{}`: {}",
            e.service.name(),
            why.message
        ),
    )
    .help(if why.anchored {
        format!(
            "edit `environments.{to}.{field}` by hand (e.g. write the value out where an alias repeats it, so each place has its own), then run the promotion again"
        )
    } else {
        format!("edit `environments.{to}.{field}` by hand, then run the promotion again")
    });
    // The span is in the text as edited so far; other fields set before
    // this one may have moved it, and the same refusal on the file's own
    // text (each field is a different key) locates it there.
    let span = match why.span {
        Some(span) if e.text == src.text => Some(span),
        Some(_) => crate::edit::set_override(&src.text, to, field, new)
            .err()
            .and_then(|w| w.span),
        None => None,
    };
    match span {
        Some(span) => d.at(src, span, "this value"),
        None => d.in_file(src),
    }
}

fn not_in(svc: &Service, env: &str) -> Diagnostic {
    let span = svc
        .doc
        .get("spec")
        .and_then(|s| s.entry("environments"))
        .map_or(svc.doc.span, |e| e.key_span);
    Diagnostic::error(
        codes::PROMOTE_NOT_IN_ENVIRONMENT,
        format!("`{}` does not run in {env}", svc.name()),
    )
    .at(&svc.source, span, format!("{env} is not listed here"))
    .help(format!(
        "add `{env}: {{}}` under `environments` to run the service there, or leave the service out of this promotion"
    ))
}

/// With `promotion.order`, an image may enter `to` only when the
/// environment before it runs that image: the nearest earlier environment
/// of the order the service runs in (`emit::diff::before_in_order`, the
/// rule `paved diff` names promotions by).
fn out_of_order(p: &Platform, svc: &Service, to: &str, image: &Json) -> Option<Diagnostic> {
    let prev = semantic::before_in_order(&p.promotion.order, to, |e| runs_in(svc, e))?;
    let (runs, node) = effective(&svc.doc, prev, "image")?;
    if &runs == image {
        return None;
    }
    Some(
        Diagnostic::error(
            codes::PROMOTE_OUT_OF_ORDER,
            format!(
                "`{}` cannot go to {to}: {prev}, the environment before it in `promotion.order`, does not run it",
                shown(image)
            ),
        )
        .at(&svc.source, node.span, format!("{prev} runs `{}`", shown(&runs)))
        .help(format!(
            "promote it to {prev} first (`paved promote {} --to {prev} …`), then from {prev} to {to}",
            svc.name()
        )),
    )
}

/// `--list`: per service, the release fields whose values differ between
/// the environments it runs in.
fn list(s: &Settings, out: &Output) -> Result<bool, Fault> {
    let inputs = Inputs {
        paths: s.targets.iter().map(PathBuf::from).collect(),
        config: s.config.clone(),
        ..Inputs::default()
    };
    let c = app::compile(&inputs, true)?;
    let Some(platform) = c.platform.as_ref().filter(|_| !c.failed()) else {
        app::report(&c.diags, out);
        return Ok(false);
    };
    let envs: Vec<&str> = platform.environments.keys().map(String::as_str).collect();
    let mut rows: Vec<(&Service, &str, Vec<Option<Json>>)> = Vec::new();
    let mut selected: Vec<&Service> = c.selected().collect();
    selected.sort_by(|a, b| a.name().cmp(b.name()));
    for svc in selected {
        for field in &platform.promotion.release_fields {
            let values: Vec<Option<Json>> = envs
                .iter()
                .map(|e| {
                    runs_in(svc, e)
                        .then(|| effective(&svc.doc, e, field).map(|(v, _)| v))
                        .flatten()
                })
                .collect();
            let mut present = values.iter().flatten();
            let first = present.next();
            if present.any(|v| Some(v) != first) {
                rows.push((svc, field, values));
            }
        }
    }
    let text = match s.format {
        Format::Json => {
            let items: Vec<Json> = rows
                .iter()
                .map(|(svc, field, values)| {
                    let by_env: serde_json::Map<String, Json> = envs
                        .iter()
                        .zip(values)
                        .map(|(e, v)| (e.to_string(), v.clone().unwrap_or(Json::Null)))
                        .collect();
                    json!({
                        "service": svc.name(),
                        "file": svc.source.name,
                        "field": field,
                        "values": by_env,
                    })
                })
                .collect();
            format!(
                "{:#}\n",
                json!({"environments": envs, "differences": items})
            )
        }
        _ => {
            if rows.is_empty() {
                "every service runs the same release in each of its environments\n".to_string()
            } else {
                let mut table: Vec<Vec<String>> = vec![["SERVICE", "FIELD"]
                    .into_iter()
                    .chain(envs.iter().copied())
                    .map(str::to_string)
                    .collect()];
                for (svc, field, values) in &rows {
                    let mut line = vec![svc.name().to_string(), field.to_string()];
                    line.extend(
                        values
                            .iter()
                            .map(|v| v.as_ref().map_or("-".to_string(), shown)),
                    );
                    table.push(line);
                }
                let widths: Vec<usize> = (0..table[0].len())
                    .map(|i| {
                        table
                            .iter()
                            .map(|r| r[i].chars().count())
                            .max()
                            .unwrap_or(0)
                    })
                    .collect();
                table
                    .iter()
                    .map(|r| {
                        let cells: Vec<String> = r
                            .iter()
                            .zip(&widths)
                            .map(|(c, w)| format!("{c:<w$}"))
                            .collect();
                        format!("{}\n", cells.join("  ").trim_end())
                    })
                    .collect()
            }
        }
    };
    app::print_stdout(&text)?;
    Ok(true)
}
