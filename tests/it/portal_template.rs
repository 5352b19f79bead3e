//! The portal's Software Template (docs/catalog.md, "New services from the
//! portal"): its skeleton, filled in the way the scaffolder's
//! `fetch:template` fills it, is the `platform.yaml` `paved init` writes for
//! the same answers, and with the answers its form allows it is a spec
//! `paved validate` accepts.

use std::path::Path;

use serde_json::{json, Value};

use crate::support::fixtures::{self, copy_case, expect, render, root, run};

const TEMPLATE: &str = "catalog/templates/paved-service.yaml";
const SKELETON: &str = "catalog/templates/paved-service/skeleton/platform.yaml";

/// Renders the skeleton with `values`, as Backstage's `fetch:template` does
/// (nunjucks with `${{ }}` for values, `{% %}` and `{# #}` as usual). The
/// skeleton uses only what nunjucks and Jinja share (if, for, `loop.first`,
/// `length`, `replace`, `dump` = `tojson`), so minijinja renders it the same.
fn fill(skeleton: &str, values: &Value) -> String {
    let mut env = minijinja::Environment::new();
    env.add_filter(
        "dump",
        |v: minijinja::Value| -> Result<String, minijinja::Error> {
            serde_json::to_string(&v).map_err(|e| {
                minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
            })
        },
    );
    // minijinja drops one trailing line break, nunjucks keeps it.
    let source = skeleton.replace("${{", "{{") + "\n";
    let values = minijinja::Value::from(minijinja::value::Serde(values));
    env.render_str(&source, minijinja::context! { values => values })
        .unwrap_or_else(|e| panic!("the skeleton does not render: {e:#}\n{skeleton}"))
}

/// The value of `key:` on the first line of `text` that sets it, without
/// its comment.
fn line_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let rest = l.trim_start().strip_prefix(key)?.strip_prefix(':')?;
        Some(rest.split("  #").next()?.trim().to_string())
    })
}

fn rendered(case: &str) -> (tempfile::TempDir, String, Value) {
    let out = render(&root().join("fixtures").join(case).join("input"));
    let skeleton = std::fs::read_to_string(out.path().join(SKELETON))
        .unwrap_or_else(|e| panic!("{case}: no skeleton at {SKELETON}: {e}"));
    let template: Value = serde_yaml::from_str(
        &std::fs::read_to_string(out.path().join(TEMPLATE))
            .unwrap_or_else(|e| panic!("{case}: no template at {TEMPLATE}: {e}")),
    )
    .unwrap();
    (out, skeleton, template)
}

/// The form's property `name`, wherever it is among the parameter pages.
fn property<'a>(template: &'a Value, name: &str) -> &'a Value {
    template["spec"]["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|page| {
            page["properties"].get(name).or_else(|| {
                // Or in a branch of a conditional field (`dependencies`).
                page["dependencies"]
                    .as_object()
                    .into_iter()
                    .flat_map(|d| d.values())
                    .flat_map(|d| d["oneOf"].as_array().into_iter().flatten())
                    .find_map(|branch| branch["properties"].get(name))
            })
        })
        .unwrap_or_else(|| panic!("the form has no `{name}`"))
}

#[test]
fn the_skeleton_filled_in_is_what_paved_init_writes() {
    for case in ["quickstart", "commerce"] {
        let (_out, skeleton, _) = rendered(case);
        for kind in ["service", "worker", "cronjob"] {
            let ws = copy_case(&root().join("fixtures").join(case).join("input"));
            let o = run(
                ws.path(),
                &[
                    "init",
                    "new-svc",
                    "--type",
                    kind,
                    "--dir",
                    "services/new-svc",
                ],
            );
            expect(&o, 0);
            let init =
                std::fs::read_to_string(ws.path().join("services/new-svc/platform.yaml")).unwrap();
            // The answers paved init chose from the platform config.
            let image = line_value(&init, "image").unwrap();
            let size = line_value(&init, "size");
            let values = json!({
                "name": "new-svc",
                "type": kind,
                "owner": "my-team",
                "image": image,
                "port": 8080,
                "size": size,
                "schedule": "0 3 * * *",
                "dependsOn": [],
            });
            let filled = fill(&skeleton, &values);
            assert_eq!(
                filled, init,
                "{case}, {kind}: the filled skeleton differs from paved init's file"
            );
        }
    }
}

#[test]
fn the_skeleton_with_the_forms_answers_is_a_valid_spec() {
    let (_out, skeleton, template) = rendered("commerce");
    let owners = property(&template, "owner")["enum"].clone();
    let sizes = property(&template, "size")["enum"].clone();
    let owner = owners[0]
        .as_str()
        .expect("commerce declares teams: owner is an enum");
    let size = sizes
        .as_array()
        .and_then(|s| s.last())
        .and_then(Value::as_str)
        .unwrap();
    for kind in ["service", "worker", "cronjob"] {
        let ws = copy_case(&root().join("fixtures/commerce/input"));
        let values = json!({
            "name": "new-svc",
            "type": kind,
            "owner": owner,
            "image": "ghcr.io/acme/new-svc:1.2.3",
            "port": 9090,
            "size": size,
            "schedule": "*/5 * * * *",
            // What the MultiEntityPicker returns: full entity refs.
            "dependsOn": ["component:default/inventory", "component:default/payments"],
        });
        let filled = fill(&skeleton, &values);
        assert!(
            filled.contains("dependsOn: [component:inventory, component:payments]"),
            "{filled}"
        );
        fixtures::write(ws.path(), "new-svc/platform.yaml", &filled);
        let o = run(ws.path(), &["validate", "new-svc"]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{kind}: paved validate refuses the filled skeleton:\n{filled}\n{}{}",
            fixtures::stdout(&o),
            fixtures::stderr(&o)
        );
        let o = run(
            ws.path(),
            &["render", "new-svc", "--out", "rendered", "--quiet"],
        );
        expect(&o, 0);
        assert!(Path::new(&ws.path().join("rendered/catalog/new-svc.yaml")).is_file());
    }
}

/// The form asks what the spec schema allows, no more and no less: the
/// name, image and schedule rules and the port bounds are the schema's.
#[test]
fn the_form_restates_the_spec_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/platform.v1.schema.json")).unwrap(),
    )
    .unwrap();
    let defs = &schema["$defs"];
    let spec = &schema["properties"]["spec"]["properties"];
    for case in ["quickstart", "commerce"] {
        let (_out, _, template) = rendered(case);
        let name = property(&template, "name");
        assert_eq!(name["pattern"], defs["appName"]["pattern"], "{case}");
        assert_eq!(name["maxLength"], defs["appName"]["maxLength"], "{case}");
        let schedule = property(&template, "schedule");
        assert_eq!(schedule["pattern"], spec["schedule"]["pattern"], "{case}");
        assert_eq!(
            schedule["maxLength"], spec["schedule"]["maxLength"],
            "{case}"
        );
        let port = property(&template, "port");
        assert_eq!(port["minimum"], defs["portNumber"]["minimum"], "{case}");
        assert_eq!(port["maximum"], defs["portNumber"]["maximum"], "{case}");
        assert_eq!(
            property(&template, "type")["enum"],
            spec["type"]["enum"],
            "{case}"
        );
        let image = property(&template, "image");
        assert_eq!(image["maxLength"], defs["image"]["maxLength"], "{case}");
    }
    // Owners: the declared teams when paved.yaml has any, else a Group picker.
    let (_out, _, commerce) = rendered("commerce");
    assert_eq!(
        property(&commerce, "owner")["enum"],
        json!(["team-checkout", "team-finance", "team-inventory"])
    );
    let (_out, _, quickstart) = rendered("quickstart");
    let owner = property(&quickstart, "owner");
    assert_eq!(owner["ui:field"], "OwnerPicker");
    assert_eq!(owner["ui:options"]["catalogFilter"]["kind"], "Group");
}

/// The skeleton is a generated file like any other: a subset render writes
/// the same bytes, a re-render leaves it alone, and a file of the user's at
/// its path stops the render.
#[test]
fn the_skeleton_is_owned_like_every_generated_file() {
    let ws = copy_case(&root().join("fixtures/commerce/input"));
    expect(&run(ws.path(), &["render", "--out", "out", "--quiet"]), 0);
    let skeleton = ws.path().join("out").join(SKELETON);
    let before = std::fs::read(&skeleton).unwrap();
    expect(
        &run(
            ws.path(),
            &["render", "checkout", "--out", "out", "--quiet"],
        ),
        0,
    );
    assert_eq!(std::fs::read(&skeleton).unwrap(), before);
    expect(&run(ws.path(), &["check", "--out", "out"]), 0);
    // `paved validate` does not take the rendered skeleton for a spec.
    expect(&run(ws.path(), &["validate"]), 0);
    // Edited by hand but still carrying its header: Paved's, rewritten.
    let mut edited = before.clone();
    edited.extend_from_slice(b"# an edit\n");
    std::fs::write(&skeleton, &edited).unwrap();
    expect(&run(ws.path(), &["check", "--out", "out"]), 1);
    expect(&run(ws.path(), &["render", "--out", "out", "--quiet"]), 0);
    assert_eq!(std::fs::read(&skeleton).unwrap(), before);
    // Without the header: the user's.
    std::fs::write(&skeleton, "apiVersion: paved.dev/v1\n").unwrap();
    let o = run(ws.path(), &["render", "--out", "out", "--quiet"]);
    expect(&o, 2);
    assert_eq!(
        std::fs::read(&skeleton).unwrap(),
        b"apiVersion: paved.dev/v1\n"
    );
}

#[test]
fn the_pull_request_goes_to_the_repository_holding_the_specs() {
    // storefront's specs have their own repository (`catalog.sourceURL`);
    // commerce's live in the GitOps one.
    for (case, want) in [
        ("storefront", "github.com?owner=acme&repo=shop-services"),
        ("commerce", "github.com?owner=acme&repo=deploy"),
    ] {
        let (_out, _skeleton, template) = rendered(case);
        assert_eq!(
            property(&template, "repoUrl")["default"],
            want,
            "{case}: the form offers the wrong repository"
        );
        // Only services can be depended on: the picker offers no worker or cronjob.
        let filter = &property(&template, "dependencies")["ui:options"]["catalogFilter"];
        assert_eq!(filter["kind"], "Component", "{case}");
        assert_eq!(filter["spec.type"], "service", "{case}");
    }
}
