#!/usr/bin/env python3
"""Regenerates src/nameref_table.rs from kustomize's builtin name-reference
configuration (api/internal/konfig/builtinpluginconsts/namereference.go in the
kustomize module the testbed builds)."""
import sys, yaml

src = open(sys.argv[1]).read()
doc = yaml.safe_load(src[src.index('`') + 1:src.rindex('`')])
rows = []
for e in doc['nameReference']:
    for f in e['fieldSpecs']:
        rows.append('    ("%s", "%s", "%s", "%s", "%s", "%s", "%s"),' % (
            e.get('group', ''), e.get('version', ''), e['kind'],
            f.get('group', ''), f.get('version', ''), f.get('kind', ''), f['path'].replace('\\', '\\\\')))
print('''//! Where objects refer to other objects by name: (referred group, version,
//! kind) and (referring group, version, kind, field path). Generated from
//! kustomize's builtin name-reference configuration by
//! `scripts/gen-nameref.py`; empty parts match anything.

pub const NAME_REFERENCES: &[(&str, &str, &str, &str, &str, &str, &str)] = &[''')
print('\n'.join(rows))
print('];')
