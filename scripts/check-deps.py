#!/usr/bin/env python3
"""The dependency rule of docs/architecture.md, checked on `cargo metadata`.

Arrows point only inward: domain <- ports <- app <- http, adapters -> ports + domain, and
server wires everything. A forbidden edge (domain -> diesel, http -> store-diesel, an adapter ->
another adapter, ...) fails with a message naming it. Only normal and build dependencies count:
dev-dependencies (tests) may use anything. Optional dependencies that exist only for test
support features (ports' `mocks` and `contract`) are allowed where listed.

Usage: scripts/check-deps.py            check this workspace
       scripts/check-deps.py --self-test check that the checker catches forbidden edges
"""
import json
import subprocess
import sys

# Crates of ours, by layer. Adapters are every crate named here as one.
LAYERS = {
    "accueil-domain": "domain",
    "accueil-ports": "ports",
    "accueil-app": "app",
    "accueil-http": "http",
    "accueil-server": "server",
    "accueil-store-memory": "adapter",
    "accueil-store-diesel": "adapter",
    "accueil-crypto": "adapter",
    "accueil-notify-smtp": "adapter",
    "accueil-media": "adapter",
    "accueil-oauth": "adapter",
    "accueil-events": "adapter",
}

# Which of our crates each layer may depend on.
ALLOWED_OURS = {
    "domain": set(),
    "ports": {"domain"},
    "app": {"domain", "ports"},
    "adapter": {"domain", "ports"},
    "http": {"domain", "app"},
    "server": {"domain", "ports", "app", "http", "adapter"},
}

# I/O and framework crates: none of them in the pure layers.
IO_CRATES = {
    "diesel", "diesel_migrations", "libsqlite3-sys", "pq-sys", "r2d2", "sqlx",
    "actix-web", "actix-cors", "actix-multipart", "actix-ws", "actix-rt", "actix-governor",
    "utoipa", "utoipa-actix-web", "utoipa-swagger-ui", "tokio", "hyper", "reqwest", "lettre",
    "bcrypt", "jsonwebtoken", "openidconnect", "oauth2", "image", "serde_json", "tracing-subscriber",
}
FORBIDDEN_EXTERNAL = {
    "domain": IO_CRATES | {"tracing", "async-trait", "serde", "mockall"},
    "ports": IO_CRATES,
    "app": IO_CRATES,
    "http": {"diesel", "diesel_migrations", "libsqlite3-sys", "pq-sys", "r2d2", "lettre", "bcrypt", "jsonwebtoken"},
    "adapter": {"actix-web", "utoipa", "utoipa-actix-web"},
    "server": set(),
}
# Optional dependencies allowed for test-support features.
TEST_SUPPORT = {("accueil-ports", "mockall"), ("accueil-ports", "tokio")}


def violations(packages):
    found = []
    for pkg in packages:
        name = pkg["name"]
        if not name.startswith("accueil-"):
            continue
        layer = LAYERS.get(name)
        if layer is None:
            found.append(f"{name}: unknown crate; give it a layer in scripts/check-deps.py")
            continue
        for dep in pkg["dependencies"]:
            if dep.get("kind") == "dev":
                continue
            dname = dep["name"]
            if dep.get("optional") and (name, dname) in TEST_SUPPORT:
                continue
            if dname.startswith("accueil-"):
                if dname == name:
                    continue
                dlayer = LAYERS.get(dname)
                if dlayer is None:
                    found.append(f"{name} -> {dname}: unknown crate")
                elif dlayer not in ALLOWED_OURS[layer]:
                    found.append(f"{name} ({layer}) -> {dname} ({dlayer}): forbidden edge")
            elif dname in FORBIDDEN_EXTERNAL[layer]:
                found.append(f"{name} ({layer}) -> {dname}: {layer} must not depend on {dname}")
    return found


def self_test():
    def pkg(name, *deps, kind=None):
        return {"name": name, "dependencies": [{"name": d, "kind": kind, "optional": False} for d in deps]}

    bad = [
        pkg("accueil-domain", "diesel"),
        pkg("accueil-http", "accueil-store-diesel"),
        pkg("accueil-store-diesel", "accueil-store-memory"),
        pkg("accueil-app", "accueil-crypto"),
        pkg("accueil-ports", "accueil-app"),
        pkg("accueil-mystery"),
    ]
    for p in bad:
        assert violations([p]), f"not caught: {p}"
    good = [
        pkg("accueil-domain", "chrono", "thiserror", "uuid"),
        pkg("accueil-app", "accueil-domain", "accueil-ports"),
        pkg("accueil-app", "accueil-store-memory", "tokio", kind="dev"),
        pkg("accueil-server", "accueil-store-diesel", "accueil-http", "tokio"),
    ]
    for p in good:
        assert not violations([p]), f"wrongly refused: {p} {violations([p])}"
    print("check-deps self-test: ok")


def main():
    if "--self-test" in sys.argv:
        self_test()
        return 0
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"],
            check=True, capture_output=True, text=True,
        ).stdout
    )
    found = violations(meta["packages"])
    if found:
        print("dependency rule violated:", *found, sep="\n  ", file=sys.stderr)
        return 1
    print(f"dependency rule: ok ({sum(1 for p in meta['packages'] if p['name'].startswith('accueil-'))} crates)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
