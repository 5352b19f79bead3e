//! `paved trace`: where each field of a rendered object came from — the
//! spec line, the environment override, the platform config line, a
//! built-in default, the blueprint line. Writes nothing.

use std::path::{Path, PathBuf};

use crate::app::{self, Fault, Inputs, Output, Trace};
use crate::diag::Format;

pub(crate) struct Settings {
    /// A rendered file, when the object is named by its file.
    pub file: Option<PathBuf>,
    /// `KIND/NAMESPACE/NAME`, when named with `--resource`.
    pub resource: Option<String>,
    /// One field (`spec.replicas`, `spec.template.spec.containers[0].image`
    /// or a JSON pointer); `None`: every field.
    pub field: Option<String>,
    pub env: Option<String>,
    pub config: Option<PathBuf>,
    pub format: Format,
}

/// What the object is, as read from a rendered file or `--resource`.
struct Wanted {
    kind: String,
    namespace: Option<String>,
    name: String,
    /// Path components of the file, where the environment is looked up.
    folders: Vec<String>,
    /// The object as the file holds it.
    value: Option<serde_json::Value>,
}

pub(crate) fn run(s: &Settings, out: &Output) -> Result<bool, Fault> {
    let wanted = match (&s.file, &s.resource) {
        (Some(f), None) => read_file(f)?,
        (None, Some(r)) => parse_resource(r)?,
        _ => {
            return Err(Fault(
                "name the object: a rendered file (`paved trace FILE [FIELD]`) or `--resource KIND/NAMESPACE/NAME`".into(),
            ))
        }
    };
    // The workspace: the config given, else that of the nearest paved.yaml
    // above the file (the output folder sits in the workspace), else `.`.
    let paths: Vec<PathBuf> = s
        .file
        .as_deref()
        .and_then(|f| {
            let abs = std::path::absolute(f).ok()?;
            abs.ancestors()
                .skip(1)
                .find(|d| d.join("paved.yaml").is_file())
                .map(Path::to_path_buf)
        })
        .into_iter()
        .collect();
    let inputs = Inputs {
        paths,
        config: s.config.clone(),
        envs: s.env.iter().cloned().collect(),
        ..Inputs::default()
    };
    let c = app::compile(&inputs, true)?;
    let env_names: Vec<String> = c
        .platform
        .as_ref()
        .map(|p| p.environments.values().map(|e| e.name.clone()).collect())
        .unwrap_or_default();
    let env = s.env.clone().or_else(|| {
        wanted
            .folders
            .iter()
            .rev()
            .find(|f| env_names.contains(f))
            .cloned()
    });
    let Some(mut found) = app::trace(
        &c,
        &wanted.kind,
        wanted.namespace.as_deref(),
        &wanted.name,
        env.as_deref(),
    ) else {
        app::report(&c.diags, out);
        return Ok(false);
    };
    let shown = format!(
        "{} `{}`{}",
        wanted.kind,
        wanted.name,
        wanted
            .namespace
            .as_ref()
            .map_or_else(String::new, |n| format!(" in namespace `{n}`"))
    );
    let t = match found.len() {
        0 => {
            return Err(Fault(format!(
                "no service renders {shown}{}; trace follows the objects of services (DIR/<env>/<service>/ and DIR/<env>/argocd/)",
                env.map_or_else(String::new, |e| format!(" in {e}"))
            )))
        }
        1 => found.remove(0),
        _ => {
            let envs: Vec<String> = found
                .iter()
                .map(|t| t.resource.environment.clone())
                .collect();
            return Err(Fault(format!(
                "{shown} is rendered in {}; choose one with --env",
                envs.join(", ")
            )));
        }
    };
    if let (Some(f), Some(v)) = (&s.file, &wanted.value) {
        if *v != t.value {
            app::status(
                out,
                &format!(
                    "warning: `{}` is not what the specs render now (run `paved render`); tracing what they render now",
                    f.display()
                ),
            );
        }
    }
    let fields = match &s.field {
        None => t.fields.iter().collect::<Vec<_>>(),
        Some(f) => vec![pick(&t, f)?],
    };
    let text = match s.format {
        Format::Json => json(&t, &fields),
        _ => text(&t, &fields),
    };
    app::print_stdout(&text)?;
    Ok(true)
}

/// The field `wanted` names: its dotted path, the same with `.N` for `[N]`,
/// or its JSON pointer.
fn pick<'t>(t: &'t Trace, wanted: &str) -> Result<&'t app::TraceField, Fault> {
    let dotted = |p: &str| p.replace('[', ".").replace(']', "");
    if let Some(f) = t
        .fields
        .iter()
        .find(|f| f.path == wanted || f.pointer == wanted || dotted(&f.path) == dotted(wanted))
    {
        return Ok(f);
    }
    // A mapping or list: its first field below tells where it is.
    let prefix = |f: &&app::TraceField| {
        dotted(&f.path).starts_with(&format!("{}.", dotted(wanted)))
            || f.pointer.starts_with(&format!("{wanted}/"))
    };
    if let Some(f) = t.fields.iter().find(prefix) {
        return Ok(f);
    }
    let best = t
        .fields
        .iter()
        .map(|f| (strsim::damerau_levenshtein(&f.path, wanted), &f.path))
        .min()
        .filter(|(d, p)| *d <= (p.len() / 3).max(3));
    Err(Fault(format!(
        "{} `{}` has no field `{wanted}`{}",
        t.resource.kind,
        t.resource.name,
        best.map_or_else(
            || "; run without a field to list them all".to_string(),
            |(_, p)| format!("; did you mean `{p}`?")
        )
    )))
}

fn read_file(f: &Path) -> Result<Wanted, Fault> {
    let shown = f.display();
    let text =
        std::fs::read_to_string(f).map_err(|e| Fault(format!("cannot read `{shown}`: {e}")))?;
    if !text.starts_with(crate::emit::header::MARK) {
        return Err(Fault(format!(
            "`{shown}` was not generated by Paved (it does not start with `{}`); trace a file Paved rendered, or name the object with --resource KIND/NAMESPACE/NAME",
            crate::emit::header::MARK
        )));
    }
    let src = crate::source::Source::virtual_file(&shown.to_string(), text);
    let (docs, _) = crate::load::parse(&src, crate::load::Documents::Many);
    let catalog = docs.iter().any(|d| {
        d.pointer("/apiVersion")
            .and_then(|(n, _)| n.as_str())
            .is_some_and(|v| v.starts_with("backstage.io/"))
    });
    if catalog {
        return Err(Fault(format!(
            "`{shown}` is a Backstage catalog file: catalog entries cannot be traced; trace follows the objects of services (DIR/<env>/<service>/ and DIR/<env>/argocd/)"
        )));
    }
    let [doc] = &docs[..] else {
        return Err(Fault(format!(
            "`{shown}` holds {} documents; trace one object with --resource KIND/NAMESPACE/NAME",
            docs.len()
        )));
    };
    let get = |p: &str| {
        doc.pointer(p)
            .and_then(|(n, _)| n.as_str())
            .map(str::to_string)
    };
    let (Some(kind), Some(name)) = (get("/kind"), get("/metadata/name")) else {
        return Err(Fault(format!(
            "`{shown}` has no `kind` and `metadata.name`: not a rendered object"
        )));
    };
    Ok(Wanted {
        kind,
        namespace: get("/metadata/namespace"),
        name,
        folders: f
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect(),
        value: Some(doc.to_json()),
    })
}

fn parse_resource(r: &str) -> Result<Wanted, Fault> {
    let parts: Vec<&str> = r.split('/').collect();
    let (kind, namespace, name) = match parts[..] {
        [k, ns, n] if !k.is_empty() && !n.is_empty() => {
            (k, (!ns.is_empty()).then(|| ns.to_string()), n)
        }
        [k, n] if !k.is_empty() && !n.is_empty() => (k, None, n),
        _ => {
            return Err(Fault(format!(
                "--resource `{r}`: expected KIND/NAMESPACE/NAME (e.g. Deployment/orders/orders)"
            )))
        }
    };
    Ok(Wanted {
        kind: kind.to_string(),
        namespace,
        name: name.to_string(),
        folders: vec![],
        value: None,
    })
}

fn value_text(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn text(t: &Trace, fields: &[&app::TraceField]) -> String {
    let r = &t.resource;
    let mut out = format!(
        "{} {}{} in {} (service `{}`, blueprint {})\n",
        r.kind,
        r.name,
        r.namespace
            .as_ref()
            .map_or_else(String::new, |n| format!(" (namespace {n})")),
        r.environment,
        r.service,
        r.blueprint
    );
    for f in fields {
        out.push_str(&format!("\n{}: {}\n", f.path, value_text(&f.value)));
        for s in &f.origins {
            let at = s.at.as_deref().unwrap_or("-");
            out.push_str(&format!("  {:<20} {at}  {}\n", s.kind, s.detail));
        }
    }
    out
}

fn json(t: &Trace, fields: &[&app::TraceField]) -> String {
    let v = serde_json::json!({
        "resource": t.resource,
        "fields": fields,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}
