#!/usr/bin/env python3
"""Regenerates src/smp_schema.rs, the list merge keys and patch strategies
the strategic merge patch uses for built-in kinds, and
scripts/smp-schema-vs-live.txt, how they differ from the live apiserver's.

    crates/kustomize/scripts/gen-smp-schema.py            # starts the testbed apiserver
    KUBECONFIG=... crates/kustomize/scripts/gen-smp-schema.py --live   # uses a running one

Two schemas are read:
  * the live one, `kubectl get --raw /openapi/v2` from the testbed apiserver;
  * the one `kustomize build` merges with: kyaml embeds the Kubernetes 1.21.2
    OpenAPI schema, dumped by scripts/kyaml-schema/main.go built against the
    kyaml the testbed pins (testbed/kustomize/go.mod).
The table follows kyaml's, since output must be byte-identical with
kustomize: kinds the live server has and kyaml lacks (autoscaling/v2, ...)
stay unknown (maps merge, lists replace), fields newer than 1.21 have no merge
key, and removed API versions (extensions/v1beta1, ...) keep theirs. Every
such difference is listed in scripts/smp-schema-vs-live.txt.

Needs go (offline: the testbed's module cache), kubectl and rustfmt.
"""
import json, os, shutil, subprocess, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
crate = os.path.dirname(here)
repo = os.path.dirname(os.path.dirname(crate))
STRATEGY = 'x-kubernetes-patch-strategy'
MERGE_KEY = 'x-kubernetes-patch-merge-key'
MAP_KEYS = 'x-kubernetes-list-map-keys'


def kyaml_schema():
    with tempfile.TemporaryDirectory() as d:
        for f in ('go.mod', 'go.sum'):
            shutil.copy(os.path.join(repo, 'testbed/kustomize', f), d)
        shutil.copy(os.path.join(here, 'kyaml-schema/main.go'), d)
        mod = open(os.path.join(d, 'go.mod')).read().split('\n', 1)[1]
        open(os.path.join(d, 'go.mod'), 'w').write('module kyamlschema\n' + mod)
        env = dict(os.environ, GOTOOLCHAIN='local', GOPROXY='off', GOFLAGS='-mod=mod')
        out = subprocess.run(['go', 'run', '.'], cwd=d, env=env, check=True,
                             stdout=subprocess.PIPE).stdout
    return json.loads(out)['definitions']


def live_schema():
    if '--live' in sys.argv:
        return json.loads(subprocess.run(['kubectl', 'get', '--raw', '/openapi/v2'],
                                         check=True, stdout=subprocess.PIPE).stdout)['definitions']
    state = tempfile.mkdtemp(prefix='gen-smp-schema.')
    os.rmdir(state)
    up = subprocess.run([os.path.join(repo, 'testbed/up'), '--dir', state], check=True,
                        stdout=subprocess.PIPE, text=True).stdout
    try:
        kubeconfig = up.split('KUBECONFIG=', 1)[1].split()[0].strip('\'"')
        env = dict(os.environ, KUBECONFIG=kubeconfig)
        raw = subprocess.run(['kubectl', 'get', '--raw', '/openapi/v2'], env=env,
                             check=True, stdout=subprocess.PIPE).stdout
    finally:
        subprocess.run([os.path.join(repo, 'testbed/down'), '--dir', state], check=False)
    return json.loads(raw)['definitions']


def ref_name(p):
    r = p.get('$ref', '')
    return r.rsplit('/', 1)[-1] if r else None


def is_merge_list(p):
    return p.get('type') == 'array' and 'merge' in p.get(STRATEGY, '').split(',')


def keys_of(p):
    # kyaml reads the list-map keys only when a patch strategy is present,
    # else the single patch merge key.
    if MAP_KEYS in p:
        return list(p[MAP_KEYS])
    return [p[MERGE_KEY]] if MERGE_KEY in p else []


def build_table(defs):
    """Definitions on the way to a merging list, with the fields that matter:
    name -> [(field, strategy, keys, child definition or None)]. A field
    whose value is a map of a definition gets a synthetic `Def#field` child
    with a single `*` entry."""
    edges = {}  # def -> [(field, strategy, keys, child)]
    for name, d in defs.items():
        rows = []
        for f, p in sorted((d.get('properties') or {}).items()):
            if p.get('type') == 'array':
                if is_merge_list(p):
                    rows.append((f, p.get(STRATEGY, ''), keys_of(p), True, ref_name(p.get('items', {}))))
                elif STRATEGY in p:
                    rows.append((f, p[STRATEGY], keys_of(p), True, None))
            elif ref_name(p):
                rows.append((f, p.get(STRATEGY, ''), [], False, ref_name(p)))
            elif isinstance(p.get('additionalProperties'), dict) and ref_name(p['additionalProperties']):
                syn = name + '#' + f
                edges[syn] = [('*', '', [], False, ref_name(p['additionalProperties']))]
                rows.append((f, '', [], False, syn))
        edges[name] = rows
    # Keep what leads to a merging list or carries a strategy (recorded for
    # documentation: kyaml ignores strategies on maps and non-merge lists).
    relevant = set()
    changed = True
    while changed:
        changed = False
        for name, rows in edges.items():
            if name in relevant:
                continue
            for f, strat, keys, lst, child in rows:
                if strat or child in relevant:
                    relevant.add(name)
                    changed = True
                    break
    table = {}
    for name in sorted(relevant):
        table[name] = [(f, s, k, lst, c if c in relevant else None)
                       for f, s, k, lst, c in edges[name] if s or c in relevant]
    return table


def roots(defs):
    out = {}
    for name, d in defs.items():
        for g in d.get('x-kubernetes-group-version-kind', []):
            av = g['version'] if not g['group'] else g['group'] + '/' + g['version']
            out[(av, g['kind'])] = name
    return out


def rust(table, root_map):
    names = sorted(table)
    index = {n: i for i, n in enumerate(names)}
    lines = ['''//! Strategic merge patch schema for built-in kinds: per OpenAPI definition,
//! the fields that lead to a list kustomize merges by key, with their patch
//! strategy and merge keys, and which definition each apiVersion/kind starts
//! from. GENERATED by `crates/kustomize/scripts/gen-smp-schema.py` from the
//! schema kustomize v5.8.2 embeds (kyaml, Kubernetes 1.21.2), cross-checked
//! with the testbed apiserver's `/openapi/v2` (differences:
//! `scripts/smp-schema-vs-live.txt`). Do not edit; rerun the script.

/// One field of a definition. `list` says it holds a list; `child` indexes
/// [`DEFS`] (for a list, the definition of its elements); a field named `*`
/// stands for every key of a map.
pub(crate) struct Field {
    pub name: &'static str,
    pub strategy: &'static str,
    pub keys: &'static [&'static str],
    pub list: bool,
    pub child: Option<u16>,
}

const fn f(
    name: &'static str,
    strategy: &'static str,
    keys: &'static [&'static str],
    list: bool,
    child: Option<u16>,
) -> Field {
    Field {
        name,
        strategy,
        keys,
        list,
        child,
    }
}

/// Definitions in name order, so a field lookup can binary-search `fields`.
pub(crate) const DEFS: &[(&str, &[Field])] = &[''']
    for n in names:
        lines.append('    (\n        "%s",\n        &[' % n)
        for f, s, k, lst, c in table[n]:
            keys = ', '.join('"%s"' % x for x in k)
            child = 'Some(%d)' % index[c] if c else 'None'
            lines.append('            f("%s", "%s", &[%s], %s, %s),' % (f, s, keys, 'true' if lst else 'false', child))
        lines.append('        ],\n    ),')
    lines.append('];\n\n/// (apiVersion, kind) -> index of its definition in [`DEFS`], sorted.\n'
                 'pub(crate) const ROOTS: &[(&str, &str, u16)] = &[')
    for (av, kind), n in sorted(root_map.items()):
        if n in index:
            lines.append('    ("%s", "%s", %d),' % (av, kind, index[n]))
    lines.append('];')
    return '\n'.join(lines) + '\n'


def diff_report(kdefs, ldefs):
    def strategies(defs):
        out = {}
        for name, d in defs.items():
            for f, p in (d.get('properties') or {}).items():
                if STRATEGY in p:
                    out[(name, f)] = '%s key=%s' % (p[STRATEGY], ','.join(keys_of(p)) or '-')
        return out
    k, l = strategies(kdefs), strategies(ldefs)
    kr, lr = roots(kdefs), roots(ldefs)
    out = ['# Patch strategies where the live apiserver (testbed) and kustomize v5.8.2',
           '# (kyaml, Kubernetes 1.21.2) differ. src/smp_schema.rs follows kustomize.',
           '# Generated by scripts/gen-smp-schema.py.', '', '## fields']
    for key in sorted(set(k) | set(l)):
        if k.get(key) != l.get(key):
            out.append('%s.%s: kustomize %s, live %s' % (key[0], key[1], k.get(key, 'none'), l.get(key, 'none')))
    out += ['', '## kinds only the live apiserver serves (unknown to kustomize: lists replace)']
    out += ['%s %s' % r for r in sorted(set(lr) - set(kr))]
    out += ['', '## kinds only kustomize knows (removed from the live apiserver)']
    out += ['%s %s' % r for r in sorted(set(kr) - set(lr))]
    return '\n'.join(out) + '\n'


def main():
    kdefs = kyaml_schema()
    ldefs = live_schema()
    table = build_table(kdefs)
    out = os.path.join(crate, 'src/smp_schema.rs')
    with open(out, 'w') as f:
        f.write(rust(table, roots(kdefs)))
    # Formatted as `cargo fmt` would, so that it leaves the file alone.
    subprocess.run(['rustfmt', '--edition', '2024', out], check=True)
    with open(os.path.join(here, 'smp-schema-vs-live.txt'), 'w') as f:
        f.write(diff_report(kdefs, ldefs))


if __name__ == '__main__':
    main()
