#!/usr/bin/env node
// Validates Paved's portal Software Templates (DIR/catalog/templates/*.yaml)
// the way Backstage reads them, and runs their fetch:template step.
//
// Usage: node validate-template.mjs [--init TYPE=FILE]... FILE...
//
// For each Template document:
//   1. the catalog's default entity policies (envelope, namespace, field
//      formats) and the scaffolder's own validator
//      (templateEntityV1beta3Validator of @backstage/plugin-scaffolder-common);
//   2. every `fetch:template` step's `url` is a folder beside the file, and
//      each of its files renders with nunjucks configured as the scaffolder
//      configures it (`${{ }}` for values; its parseEntityRef and pick
//      filters), for each `type` the form offers, with answers the form
//      allows (its defaults, first enum values, a sample name and image,
//      two picked Components). The step's `values` are resolved from those
//      answers as the scaffolder resolves step inputs (a lone `${{ x }}`
//      keeps x's type). A rendered platform.yaml must parse as YAML, keep no
//      template syntax and carry the answers (name, type, owner, image).
//   3. with `--init TYPE=FILE` (the platform.yaml `paved init NAME --type
//      TYPE` wrote), the skeleton filled with init's answers (its name,
//      image and size, owner my-team, port 8080, schedule "0 3 * * *", no
//      dependencies) must be that file byte for byte.
//
// Exits 0 when every check passes, 1 when any fails, 2 on usage errors.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import nunjucks from 'nunjucks';
import {
  DefaultNamespaceEntityPolicy,
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  parseEntityRef,
} from '@backstage/catalog-model';
import { templateEntityV1beta3Validator } from '@backstage/plugin-scaffolder-common';

const args = process.argv.slice(2);
const files = [];
const inits = {};
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--init') {
    const [type, file] = (args[++i] ?? '').split('=');
    if (!type || !file) usage();
    inits[type] = readFileSync(file, 'utf8');
  } else if (args[i].startsWith('--')) {
    usage();
  } else {
    files.push(args[i]);
  }
}
if (files.length === 0) usage();

function usage() {
  console.error('usage: node validate-template.mjs [--init TYPE=FILE]... FILE...');
  process.exit(2);
}

let failed = false;
const fail = (where, msg) => {
  failed = true;
  console.error(`FAIL: ${where}: ${msg}`);
};

const policies = EntityPolicies.allOf([
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
  new SchemaValidEntityPolicy(),
]);

// The scaffolder's templating: nunjucks with `${{ }}` for values, no
// autoescape, and its filters (the ones Paved's templates use).
function environment() {
  const env = new nunjucks.Environment(null, {
    autoescape: false,
    tags: { variableStart: '${{', variableEnd: '}}' },
  });
  env.addFilter('parseEntityRef', (ref, context) => parseEntityRef(ref, context));
  env.addFilter('pick', (obj, key) => obj?.[key]);
  return env;
}
const env = environment();

// How the scaffolder resolves a step input string: a lone `${{ expr }}`
// keeps the value's type; anything else is rendered as text.
function resolveInput(value, ctx) {
  if (typeof value === 'string') {
    const lone = value.match(/^\$\{\{(.*)\}\}$/s);
    if (lone && !lone[1].includes('}}')) {
      const text = env.renderString(`\${{ (${lone[1]}) | dump }}`, ctx);
      return text === '' ? undefined : JSON.parse(text);
    }
    return env.renderString(value, ctx);
  }
  if (Array.isArray(value)) return value.map((v) => resolveInput(v, ctx));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveInput(v, ctx)]));
  }
  return value;
}

// Every property the form can show, top-level and in `dependencies` branches.
function formProperties(template) {
  const props = {};
  for (const page of template.spec.parameters ?? []) {
    Object.assign(props, page.properties ?? {});
    for (const dep of Object.values(page.dependencies ?? {})) {
      for (const branch of dep.oneOf ?? []) {
        for (const [k, v] of Object.entries(branch.properties ?? {})) {
          if (!('const' in v)) props[k] = v;
        }
      }
    }
  }
  return props;
}

function skeletonFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...skeletonFiles(p));
    else out.push(p);
  }
  return out;
}

// Fills the skeleton of `step` with `parameters`: { relative path: text }.
function fill(base, step, parameters) {
  const input = resolveInput(step.input, { parameters });
  const dir = resolve(base, input.url);
  const out = {};
  for (const f of skeletonFiles(dir)) {
    out[f.slice(dir.length + 1)] = env.renderString(readFileSync(f, 'utf8'), { values: input.values });
  }
  return out;
}

for (const file of files) {
  const base = dirname(file);
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  for (const [i, doc] of docs.entries()) {
    const where = `${file}#${i}`;
    if (doc.errors.length) {
      fail(where, doc.errors.map(String).join('; '));
      continue;
    }
    const entity = doc.toJS();
    try {
      await policies.enforce(entity);
      if (!(await templateEntityV1beta3Validator.check(entity))) {
        fail(where, `not a scaffolder.backstage.io/v1beta3 Template (${entity.apiVersion} ${entity.kind})`);
        continue;
      }
    } catch (e) {
      fail(where, e.message);
      continue;
    }
    const props = formProperties(entity);
    const fetches = (entity.spec.steps ?? []).filter((s) => s.action === 'fetch:template');
    if (fetches.length === 0) fail(where, 'no fetch:template step');
    const sample = {
      name: 'new-svc',
      owner: props.owner?.enum?.[0] ?? 'group:default/team-sample',
      image: 'ghcr.io/acme/new-svc:1.2.3',
      size: props.size?.enum?.[0],
      port: props.port?.default,
      schedule: props.schedule?.default,
      dependencies: ['component:default/inventory', 'component:default/payments'],
      repoUrl: 'github.com?owner=acme&repo=deploy',
    };
    for (const step of fetches) {
      if (!existsSync(resolve(base, String(step.input?.url)))) {
        fail(where, `fetch:template url ${step.input?.url} is not a folder beside the file`);
        continue;
      }
      for (const type of props.type?.enum ?? []) {
        let out;
        try {
          out = fill(base, step, { ...sample, type });
        } catch (e) {
          fail(`${where} (${type})`, `the skeleton does not render: ${e.message}`);
          continue;
        }
        for (const [rel, text] of Object.entries(out)) {
          const w = `${where} (${type}) ${rel}`;
          if (/\$\{\{|\{%|\{#/.test(text)) fail(w, 'template syntax left after rendering');
          if (!rel.endsWith('platform.yaml')) continue;
          let spec;
          try {
            spec = parseYaml(text);
          } catch (e) {
            fail(w, `not YAML: ${e.message}`);
            continue;
          }
          const want = {
            'metadata.name': sample.name,
            'metadata.owner': String(sample.owner).replace(/^group:default\//, ''),
            'spec.type': type,
            'spec.image': sample.image,
          };
          const got = {
            'metadata.name': spec?.metadata?.name,
            'metadata.owner': spec?.metadata?.owner,
            'spec.type': spec?.spec?.type,
            'spec.image': spec?.spec?.image,
          };
          for (const k of Object.keys(want)) {
            if (got[k] !== want[k]) fail(w, `${k} is ${JSON.stringify(got[k])}, the answer was ${JSON.stringify(want[k])}`);
          }
          const deps = spec?.spec?.dependsOn;
          if (JSON.stringify(deps) !== JSON.stringify(['component:inventory', 'component:payments'])) {
            fail(w, `spec.dependsOn is ${JSON.stringify(deps)}`);
          }
        }
        if (inits[type] !== undefined) {
          const init = inits[type];
          const value = (key) =>
            init.split('\n').map((l) => l.trim()).find((l) => l.startsWith(`${key}:`))
              ?.slice(key.length + 1).split('  #')[0].trim();
          const answers = {
            name: value('name'),
            type,
            owner: props.owner?.enum ? 'my-team' : 'group:default/my-team',
            image: value('image'),
            size: value('size'),
            port: 8080,
            schedule: '0 3 * * *',
            dependencies: [],
            repoUrl: sample.repoUrl,
          };
          const text = fill(base, step, answers)['platform.yaml'];
          if (text !== init) {
            fail(`${where} (${type})`, `the skeleton filled with paved init's answers differs from paved init's platform.yaml:\n--- skeleton\n${text}\n--- paved init\n${init}`);
          }
        }
      }
    }
  }
}

if (!failed) console.log(`templates: ${files.length} file(s) valid; every skeleton renders for every type`);
process.exit(failed ? 1 : 0);
