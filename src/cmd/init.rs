//! `paved init NAME`: a commented `platform.yaml` on the golden path.
//!
//! The file validates and renders as written (a test holds it to that for
//! each type, with the built-in config and with a platform config found
//! above the target folder, whose registry and sizes it uses). It never
//! overwrites: an existing file is a usage error (exit 2).

use std::path::Path;

use crate::app::{self, Fault, Output};
use crate::model::Platform;
use crate::workspace::SPEC_FILE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Service,
    Worker,
    Cronjob,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Worker => "worker",
            Kind::Cronjob => "cronjob",
        }
    }
}

/// Where editors fetch the schema for completion and inline errors (the
/// schema's `$id`); `paved schema` prints the same file for offline use.
pub(crate) const SCHEMA_URL: &str = "https://paved.dev/schemas/platform.v1.schema.json";

pub(crate) fn run(name: &str, kind: Kind, dir: &Path, out: &Output) -> Result<bool, Fault> {
    check_name(name)?;
    let target = dir.join(SPEC_FILE);
    if std::fs::symlink_metadata(&target).is_ok() {
        return Err(Fault(format!(
            "`{}` already exists; paved init never overwrites a file (choose another folder with --dir, or edit that file)",
            target.display()
        )));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Fault(format!("cannot create the folder `{}`: {e}", dir.display())))?;
    let platform = platform_for(dir);
    let text = template(name, kind, platform.as_ref());
    // `create_new` so that a file appearing since the check is not overwritten either.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&target)
        .map_err(|e| Fault(format!("cannot create `{}`: {e}", target.display())))?;
    std::io::Write::write_all(&mut f, text.as_bytes())
        .map_err(|e| Fault(format!("cannot write `{}`: {e}", target.display())))?;
    let shown = target.display().to_string();
    let folder = super::shell_quote(&dir.display().to_string());
    app::status(
        out,
        &format!(
            "Created {shown} for the {} `{name}`.\nNext: edit the lines marked `change me`, then run\n    paved validate {folder}\n    paved render {folder}",
            kind.as_str()
        ),
    );
    Ok(true)
}

fn check_name(name: &str) -> Result<(), Fault> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 52
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Fault(format!(
            "`{name}` is not a valid service name: use lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, at most 52 characters (e.g. `order-service`)"
        )))
    }
}

/// The platform config that will apply to a spec in `dir`, if one is found
/// and valid; the template then uses its registry and sizes.
fn platform_for(dir: &Path) -> Option<Platform> {
    let path = crate::workspace::config_for(dir)?;
    app::load_config(Some(&path)).ok()?.0
}

/// The scaffold's text.
pub(crate) fn template(name: &str, kind: Kind, platform: Option<&Platform>) -> String {
    let registry = platform
        .and_then(|p| p.allowed_registries.first())
        .map(|r| r.trim_end_matches('/').to_string())
        .unwrap_or_else(|| "ghcr.io/acme".to_string());
    let sizes: Vec<String> = match platform {
        Some(p) => p.sizes.keys().cloned().collect(),
        None => vec!["small".into(), "medium".into(), "large".into()],
    };
    let size = sizes.first().cloned();
    let mut t = format!(
        "# yaml-language-server: $schema={SCHEMA_URL}
#
# {name}: what the platform needs to know to build, run and operate it.
# Paved turns this file into every manifest {name} needs, in each environment.
#   paved explain FIELD     describes any field, e.g. `paved explain spec.ports`
#   paved validate          checks this file
#   paved render --out DIR  writes the manifests
apiVersion: paved.dev/v1
kind: Application
metadata:
  name: {name}
  description: What {name} does, in one sentence   # change me: shown in the developer portal
  owner: my-team              # change me: the owning team, used for labels and the catalog
  costCenter: cc-0000         # change me: billed cost center (the platform requires it)
  lifecycle: experimental     # experimental | production | deprecated
spec:
  type: {kind}
  image: {registry}/{name}:0.1.0   # change me: a tag or @sha256 digest, never `latest`
",
        kind = kind.as_str()
    );
    match kind {
        Kind::Service => t.push_str(
            "  ports:                      # the first port is the default
    - name: http
      port: 8080
  replicas: auto              # auto: scaled on CPU between autoscaling.min and max; or a fixed number
  probes:                     # health checks on the first port
    liveness: {path: /healthz}
    readiness: {path: /ready}
",
        ),
        Kind::Worker => t.push_str(
            "  replicas: 1                 # a worker serves no traffic; a fixed number of copies
",
        ),
        Kind::Cronjob => t.push_str(
            "  schedule: \"0 3 * * *\"       # cron syntax, UTC: every day at 03:00
",
        ),
    }
    if let Some(size) = size {
        t.push_str(&format!(
            "  size: {size}{}# CPU and memory: {}; or `compute: {{cpu: 500m, memory: 512Mi}}`\n",
            " ".repeat(22usize.saturating_sub(size.len())),
            sizes.join(" | ")
        ));
    }
    t.push_str(
        "  env:
    LOG_LEVEL: info
  # secrets:                  # values from the platform's secret store; never write a secret here
  #   - {env: API_KEY, ref: \"my-team/api#key\"}
",
    );
    if kind == Kind::Service {
        t.push_str(&format!(
            "  # ingress:                  # reachable at {name}.<environment domain>
  #   host: {name}
  #   public: false
  # dependsOn: [component:other-service]
"
        ));
    }
    t.push_str(&format!(
        "  # resources:                # infrastructure provisioned for {name}
  #   db: {{type: postgresql, version: \"16\", storageGB: 10}}
  # Runs in every platform environment unless you list them:
  # environments:
  #   staging: {{promote: auto}}
  #   production: {{promote: manual}}
"
    ));
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_spec_rule() {
        for ok in ["orders", "order-service", "a1"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Orders",
            "1st",
            "orders-",
            "a_b",
            "../x",
            &"a".repeat(53),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_scaffold_starts_with_the_modeline() {
        let t = template("orders", Kind::Service, None);
        assert!(t.starts_with(
            "# yaml-language-server: $schema=https://paved.dev/schemas/platform.v1.schema.json\n"
        ));
    }
}
