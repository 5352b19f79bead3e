//! `paved validate`: check every spec of the workspace and the platform
//! config; report what concerns the selected specs. Writes nothing.

use std::time::Instant;

use crate::app::{self, Fault, Inputs, Output};

pub(crate) fn run(inputs: &Inputs, out: &Output) -> Result<bool, Fault> {
    let start = Instant::now();
    let c = {
        let _progress = app::progress(out, "validating");
        app::compile(inputs, false)?
    };
    c.describe(out);
    let diags = c.selected_diags();
    app::report(&diags, out);
    let failed = crate::diag::count_errors(&diags) > 0;
    if !failed {
        if out.verbose {
            for s in c.selected() {
                app::status(out, &format!("ok: {} ({})", s.source.name, s.name()));
                if let Some(sec) = &s.spec.security {
                    for field in sec.relaxed_fields() {
                        app::status(
                            out,
                            &format!("waiver: {} relaxes `{field}`: {}", s.name(), sec.reason),
                        );
                    }
                }
            }
        }
        app::status(
            out,
            &format!(
                "Validated {} in {:.2}s ({})",
                app::plural(c.selected().count(), "service"),
                start.elapsed().as_secs_f64(),
                c.where_()
            ),
        );
    }
    Ok(!failed)
}
