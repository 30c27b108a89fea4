#!/usr/bin/env bash
# Checks deploy/ offline, without Docker or a cluster:
#   - every YAML file parses;
#   - the Kubernetes manifests validate strictly against the Kubernetes 1.37 schemas
#     (kubernetes-validate), and a manifest with an unknown field is rejected (the check bites);
#   - docker-compose.yml has the service, build file, health check and volume it should;
#   - deploy/Dockerfile passes hadolint;
#   - the ConfigMap's redis.conf says what deploy/redis.conf says;
#   - the TLS variant (deploy/k8s-tls, deploy/redis-tls.conf) validates the same way, mounts the
#     Secrets its configuration names, and deploy/redis-tls.conf starts llmcached serving TLS
#     only, with a throwaway CA made here and the users of its example aclfile Secret;
#   - deploy/redis.conf starts Debian's redis-server, and llmcached when a binary is there
#     ($LLMCACHED_BIN or target/release/llmcached), with only port, bind and dir overridden;
#   - the scale-out variant (deploy/k8s-scale-out, deploy/scale-out/docker-compose.yml): its
#     manifests validate the same way, three llmcached nodes name the three Redis Cluster nodes
#     as their seeds with --shared-tier-cluster yes, and its commands run here: the Redis nodes'
#     arguments and the file's `redis-cli --cluster create` make a three-master cluster, and
#     llmcached starts with the nodes' flags on it;
#   - the Grafana dashboards in deploy/grafana/ are valid JSON, and every metric their queries
#     name is one a scrape of the binary's /metrics serves (and a misspelt name is caught).
# Installs its checkers once into target/deploy-venv from deploy/check-requirements.txt.
# Ends with `N passed, N failed`; exits non-zero on a failure. With $JUNIT_XML set (the test
# harness sets it) each check is also written there as a JUnit test case.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPLOY="$ROOT/deploy"
VENV=${DEPLOY_VENV:-$ROOT/target/deploy-venv}
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# shellcheck source=scripts/lib/junit.sh
source "$ROOT/scripts/lib/junit.sh"

PASSED=0
FAILED=0
SKIPPED=0
pass() { # pass NAME
    PASSED=$((PASSED + 1))
    echo "ok   $1"
    junit_record passed "$1"
}
fail() { # fail NAME [OUTPUT_FILE]: the file's content is shown and attached to the case
    FAILED=$((FAILED + 1))
    echo "FAIL $1"
    if [ -n "${2:-}" ]; then sed 's/^/     /' "$2"; fi
    junit_record failed "$1" "${2:-}"
}
skip() { # skip NAME
    SKIPPED=$((SKIPPED + 1))
    echo "skip $1"
    junit_record skipped "$1"
}

ensure_venv() {
    local want stamp="$VENV/.requirements.sha256"
    want=$(sha256sum "$DEPLOY/check-requirements.txt" | cut -d' ' -f1)
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    echo "==> installing checkers into $VENV" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV" || {
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >&2
        python3 -m venv "$VENV"
    }
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        -r "$DEPLOY/check-requirements.txt" >&2
    echo "$want" >"$stamp"
}

# run_check NAME CMD...: one check, passed when CMD exits 0 (its output shown on failure).
run_check() {
    local name=$1
    shift
    if "$@" >"$WORK/out" 2>&1; then
        pass "$name"
    else
        fail "$name" "$WORK/out"
    fi
}

ensure_venv
PY="$VENV/bin/python"
mapfile -t YAMLS < <(find "$DEPLOY" -name '*.yaml' -o -name '*.yml' | sort)
mapfile -t MANIFESTS < <(find "$DEPLOY/k8s" -name '*.yaml' ! -name 'kustomization.yaml' | sort)

run_check "YAML parses: ${#YAMLS[@]} files" "$PY" -c '
import sys, yaml
for path in sys.argv[1:]:
    docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
    assert docs, f"{path}: no document"
' "${YAMLS[@]}"

run_check "Kubernetes manifests validate (strict, 1.37)" \
    "$VENV/bin/kubernetes-validate" --strict --quiet "${MANIFESTS[@]}"

# The validator must reject what Kubernetes would: a misspelt field in a copy of the StatefulSet.
sed 's/readinessProbe:/readinesProbe:/' "$DEPLOY/k8s/statefulset.yaml" >"$WORK/broken.yaml"
# shellcheck disable=SC2016 # the inner script expands its own arguments
run_check "kubernetes-validate rejects a misspelt field" \
    bash -c '! "$1" --strict --quiet "$2"' _ "$VENV/bin/kubernetes-validate" "$WORK/broken.yaml"

run_check "kustomization lists every manifest" "$PY" -c '
import os, sys, yaml
k = yaml.safe_load(open(sys.argv[1]))
listed = set(k["resources"])
present = {os.path.basename(p) for p in sys.argv[2:]}
assert listed == present, f"listed {sorted(listed)}, present {sorted(present)}"
' "$DEPLOY/k8s/kustomization.yaml" "${MANIFESTS[@]}"

run_check "StatefulSet: volumeClaimTemplate, probes, ConfigMap mounted and passed" "$PY" -c '
import sys, yaml
sts = yaml.safe_load(open(sys.argv[1]))
spec = sts["spec"]
pod = spec["template"]["spec"]
c = pod["containers"][0]
assert spec["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
assert c["command"][-1] == "/etc/llmcached/redis.conf", c["command"]
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
assert mounts == {"data": "/data", "config": "/etc/llmcached"}, mounts
vols = {v["name"]: v for v in pod["volumes"]}
assert vols["config"]["configMap"]["name"] == "llmcached-config"
assert "readinessProbe" in c and "livenessProbe" in c
assert pod["securityContext"]["runAsUser"] == 10001
' "$DEPLOY/k8s/statefulset.yaml"

run_check "ConfigMap redis.conf matches deploy/redis.conf" "$PY" -c '
import sys, yaml
def directives(text):
    return [l.split() for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
cm = yaml.safe_load(open(sys.argv[1]))["data"]["redis.conf"]
assert directives(cm) == directives(open(sys.argv[2]).read()), "the two configurations differ"
' "$DEPLOY/k8s/configmap.yaml" "$DEPLOY/redis.conf"

mapfile -t TLS_MANIFESTS < <(find "$DEPLOY/k8s-tls" -name '*.yaml' ! -name 'kustomization.yaml' | sort)
run_check "TLS variant: Kubernetes manifests validate (strict, 1.37)" \
    "$VENV/bin/kubernetes-validate" --strict --quiet "${TLS_MANIFESTS[@]}"

run_check "TLS variant: kustomization lists every manifest" "$PY" -c '
import os, sys, yaml
k = yaml.safe_load(open(sys.argv[1]))
listed = set(k["resources"])
present = {os.path.basename(p) for p in sys.argv[2:]}
assert listed == present, f"listed {sorted(listed)}, present {sorted(present)}"
' "$DEPLOY/k8s-tls/kustomization.yaml" "${TLS_MANIFESTS[@]}"

run_check "TLS variant: ConfigMap redis.conf matches deploy/redis-tls.conf" "$PY" -c '
import sys, yaml
def directives(text):
    return [l.split() for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
cm = yaml.safe_load(open(sys.argv[1]))["data"]["redis.conf"]
assert directives(cm) == directives(open(sys.argv[2]).read()), "the two configurations differ"
' "$DEPLOY/k8s-tls/configmap.yaml" "$DEPLOY/redis-tls.conf"

run_check "TLS variant: Secrets mounted where redis-tls.conf reads them, probe over TLS" "$PY" -c '
import os, sys, yaml
sts, conf = yaml.safe_load(open(sys.argv[1])), open(sys.argv[2]).read()
pod = sts["spec"]["template"]["spec"]
c = pod["containers"][0]
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
assert secrets == {"tls": "llmcached-tls", "acl": "llmcached-acl"}, secrets
files = {l.split()[0]: l.split()[1] for l in conf.splitlines() if l.strip() and not l.startswith("#")}
for d, vol in [("tls-cert-file", "tls"), ("tls-key-file", "tls"), ("tls-ca-cert-file", "tls"), ("aclfile", "acl")]:
    assert os.path.dirname(files[d]) == mounts[vol], (d, files[d], mounts[vol])
probe = " ".join(c["readinessProbe"]["exec"]["command"])
assert "--tls" in probe and files["tls-ca-cert-file"] in probe, probe
assert files["port"] == "0" and files["tls-port"] == "6379"
' "$DEPLOY/k8s-tls/statefulset.yaml" "$DEPLOY/redis-tls.conf"

mapfile -t SCALE_MANIFESTS < <(find "$DEPLOY/k8s-scale-out" -name '*.yaml' ! -name 'kustomization.yaml' | sort)
run_check "scale-out variant: Kubernetes manifests validate (strict, 1.37)" \
    "$VENV/bin/kubernetes-validate" --strict --quiet "${SCALE_MANIFESTS[@]}"

run_check "scale-out variant: kustomization lists every manifest" "$PY" -c '
import os, sys, yaml
k = yaml.safe_load(open(sys.argv[1]))
listed = set(k["resources"])
present = {os.path.basename(p) for p in sys.argv[2:]}
assert listed == present, f"listed {sorted(listed)}, present {sorted(present)}"
' "$DEPLOY/k8s-scale-out/kustomization.yaml" "${SCALE_MANIFESTS[@]}"

run_check "scale-out variant: ConfigMap redis.conf matches deploy/redis.conf" "$PY" -c '
import sys, yaml
def directives(text):
    return [l.split() for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
cm = yaml.safe_load(open(sys.argv[1]))["data"]["redis.conf"]
assert directives(cm) == directives(open(sys.argv[2]).read()), "the two configurations differ"
' "$DEPLOY/k8s-scale-out/configmap.yaml" "$DEPLOY/redis.conf"

# The three llmcached pods name every Redis pod as a seed of a cluster tier; the Redis
# StatefulSet runs three cluster-enabled masters announcing their pod IP; the Job creates the
# cluster from exactly those pods, with no replicas.
run_check "scale-out variant: three llmcached nodes over a three-master Redis Cluster" "$PY" -c '
import re, sys, yaml
d = sys.argv[1]
def docs(name):
    return [x for x in yaml.safe_load_all(open(f"{d}/{name}")) if x]
(llm,) = docs("statefulset.yaml")
redis_svc, redis = docs("redis-cluster.yaml")
(job,) = docs("redis-cluster-create.yaml")
assert llm["spec"]["replicas"] == 3, llm["spec"]["replicas"]
n = redis["spec"]["replicas"]
assert n == 3, f"{n} Redis pods: redis-cli --cluster create needs three masters"
svc = redis["spec"]["serviceName"]
assert redis_svc["metadata"]["name"] == svc and redis_svc["spec"]["clusterIP"] == "None"
name = redis["metadata"]["name"]
c = llm["spec"]["template"]["spec"]["containers"][0]
cmd = c["command"]
assert cmd[:2] == ["llmcached", "/etc/llmcached/redis.conf"], cmd
flags = dict(zip(cmd[2::2], cmd[3::2]))
assert flags.get("--shared-tier-cluster") == "yes", flags
seeds = flags["--shared-tier"].split(",")
hosts = [re.sub(r"^redis://(:[^@]*@)?", "", u) for u in seeds]
assert hosts == [f"{name}-{i}.{svc}:6379" for i in range(n)], hosts
env = {e["name"] for e in c["env"]}
for u in seeds:
    for var in re.findall(r"\$\((\w+)\)", u):
        assert var in env, f"{var} is not in the container environment"
r = redis["spec"]["template"]["spec"]["containers"][0]
rcmd = r["command"]
opts = dict(zip(rcmd[1::2], rcmd[2::2]))
assert rcmd[0] == "redis-server" and opts["--cluster-enabled"] == "yes", rcmd
assert opts["--cluster-announce-ip"] == "$(POD_IP)"
assert any(e["name"] == "POD_IP" and e["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP" for e in r["env"])
assert r["image"].startswith("redis:7.0"), r["image"]
script = " ".join(job["spec"]["template"]["spec"]["containers"][0]["command"])
assert "--cluster create" in script and "--cluster-replicas 0" in script, script
assert "for i in " + " ".join(str(i) for i in range(n)) + ";" in script, script
assert f"{name}-$i.{svc}" in script, script
' "$DEPLOY/k8s-scale-out"

# The compose variant: the same shape, with fixed addresses on its network for the Redis nodes.
run_check "scale-out compose: three llmcached nodes over a three-master Redis Cluster" "$PY" -c '
import ipaddress, os, re, sys, yaml
path = sys.argv[1]
doc = yaml.safe_load(open(path))
svcs = doc["services"]
net = ipaddress.ip_network(doc["networks"]["scale"]["ipam"]["config"][0]["subnet"])
redis = {k: v for k, v in svcs.items() if re.fullmatch(r"redis-\d", k)}
llm = {k: v for k, v in svcs.items() if k.startswith("llmcached-")}
assert len(redis) == 3 and len(llm) == 3, (sorted(redis), sorted(llm))
addrs = []
for name, r in sorted(redis.items()):
    cmd = r["command"]
    assert cmd[0] == "redis-server" and cmd[cmd.index("--cluster-enabled") + 1] == "yes", cmd
    ip = r["networks"]["scale"]["ipv4_address"]
    assert ipaddress.ip_address(ip) in net, ip
    addrs.append(f"{ip}:6379")
create = svcs["redis-cluster-create"]
script = " ".join(create["command"])
assert "--cluster create " + " ".join(addrs) + " --cluster-replicas 0" in script, script
assert set(create["depends_on"]) == set(redis)
for name, n in sorted(llm.items()):
    cmd = n["command"]
    flags = dict(zip(cmd[2::2], cmd[3::2]))
    assert flags.get("--shared-tier-cluster") == "yes", (name, flags)
    hosts = [re.sub(r"^redis://(:[^@]*@)?", "", u) for u in flags["--shared-tier"].split(",")]
    assert hosts == addrs, (name, hosts)
    assert n["depends_on"]["redis-cluster-create"]["condition"] == "service_completed_successfully"
    assert "redis-cli" in " ".join(n["healthcheck"]["test"])
    assert any(v.endswith(":/data") for v in n["volumes"]), name
    base = os.path.join(os.path.dirname(path), n["build"]["context"])
    assert os.path.isfile(os.path.join(base, n["build"]["dockerfile"])), "Dockerfile not found"
' "$DEPLOY/scale-out/docker-compose.yml"

run_check "docker-compose.yml: build, health check, volume" "$PY" -c '
import os, sys, yaml
path = sys.argv[1]
svc = yaml.safe_load(open(path))["services"]["llmcached"]
base = os.path.join(os.path.dirname(path), svc["build"]["context"])
assert os.path.isfile(os.path.join(base, svc["build"]["dockerfile"])), "Dockerfile not found"
assert "redis-cli" in " ".join(svc["healthcheck"]["test"])
assert any(v.endswith(":/data") for v in svc["volumes"])
' "$DEPLOY/docker-compose.yml"

run_check "hadolint deploy/Dockerfile" "$VENV/bin/hadolint" --no-color "$DEPLOY/Dockerfile"

# shellcheck disable=SC2016 # the inner script expands its own arguments
run_check "Dockerfile copies files that exist" bash -c '
cd "$1" && grep -E "^COPY [^-]" deploy/Dockerfile | awk "{print \$2}" | while read -r src; do
    [ "$src" = . ] || [ -e "$src" ] || { echo "missing: $src"; exit 1; }
done' _ "$ROOT"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# conf_mismatches PORT CONF: asks the server on PORT for every directive in CONF (except those the
# command line overrides) with CONFIG GET, and prints each value that differs from the file's.
conf_mismatches() {
    python3 - "$1" "$2" <<'PY'
import subprocess, sys
port, conf = sys.argv[1], sys.argv[2]
units = {"k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}
def norm(name, value):
    value = value.strip('"')
    if name == "maxmemory":
        for suffix in sorted(units, key=len, reverse=True):
            if value.lower().endswith(suffix):
                return str(int(value[: -len(suffix)]) * units[suffix])
    return value
for line in open(conf):
    words = line.split()
    if not words or words[0].startswith("#") or words[0] in ("port", "bind", "dir"):
        continue
    name, want = words[0], norm(words[0], " ".join(words[1:]))
    out = subprocess.run(["redis-cli", "-p", port, "--raw", "CONFIG", "GET", name],
                         capture_output=True, text=True, timeout=10).stdout.splitlines()
    got = out[1] if len(out) >= 2 and out[0] == name else "(" + " | ".join(out) + ")"
    if got != want:
        print(f"{name}: file says {want!r}, CONFIG GET says {got!r}")
PY
}

# starts_with_conf NAME READY-PATTERN CONF CMD...: starts a server in the background, waits
# (bounded) for its ready line in the log, then checks that it runs with CONF's settings. The
# server is stopped afterwards either way.
starts_with_conf() {
    local name=$1 pattern=$2 conf=$3 i ok=0 port
    shift 3
    : >"$WORK/server.log"
    "$@" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for ((i = 0; i < 200; i++)); do
        if grep -q -- "$pattern" "$WORK/server.log"; then ok=1; break; fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ "$ok" = 1 ]; then
        port=$(grep -o '127\.0\.0\.1:[0-9]*' "$WORK/server.log" | head -1 | cut -d: -f2 || true)
        port=${port:-$LISTEN_PORT}
        conf_mismatches "$port" "$conf" >"$WORK/mismatches" 2>&1 || true
    fi
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
    if [ "$ok" = 1 ] && [ ! -s "$WORK/mismatches" ]; then
        pass "$name"
    elif [ "$ok" = 1 ]; then
        fail "$name: started, but not with the file's settings" "$WORK/mismatches"
    else
        fail "$name: did not start" "$WORK/server.log"
    fi
}

# A copy of deploy/redis.conf with one value changed from every default, so that a server which
# ignored the file would be caught, and with `dir` made writable here: redis-server changes to
# `dir` while it reads the file, before any command-line override applies.
sed -e "s|^dir .*|dir $WORK/data|" -e 's|^maxclients .*|maxclients 123|' \
    "$DEPLOY/redis.conf" >"$WORK/check.conf"
mkdir -p "$WORK/data"

if ! command -v redis-cli >/dev/null; then
    skip "deploy/redis.conf with real servers (redis-cli not installed)"
else
    if command -v redis-server >/dev/null; then
        LISTEN_PORT=$(free_port)
        starts_with_conf "deploy/redis.conf starts redis-server with its settings" \
            "Ready to accept connections" "$WORK/check.conf" \
            redis-server "$WORK/check.conf" --port "$LISTEN_PORT" --bind 127.0.0.1
    else
        skip "deploy/redis.conf with redis-server (not installed)"
    fi
    BIN=${LLMCACHED_BIN:-$ROOT/target/release/llmcached}
    if [ -x "$BIN" ]; then
        starts_with_conf "deploy/redis.conf starts llmcached with its settings" \
            "listening on 127.0.0.1:" "$WORK/check.conf" \
            "$BIN" "$WORK/check.conf" --port 0 --bind 127.0.0.1 --dir "$WORK/data"
    else
        skip "deploy/redis.conf with llmcached (no binary at $BIN)"
    fi
fi

# dashboard_names_served DASHBOARD SCRAPE: every llmcached_* / redis_* name in the dashboard's
# queries is a family or sample the scrape has.
dashboard_names_served() {
    python3 - "$1" "$2" <<'PY'
import json, re, sys
dash = json.load(open(sys.argv[1]))
served = set()
for line in open(sys.argv[2]):
    if line.startswith("# TYPE "):
        served.add(line.split()[2])
    elif line.strip() and not line.startswith("#"):
        served.add(re.split(r"[{ ]", line, maxsplit=1)[0])
def targets(panels):
    for p in panels:
        yield from p.get("targets", [])
        yield from targets(p.get("panels", []))
exprs = [t["expr"] for t in targets(dash["panels"])]
assert exprs, "the dashboard has no queries"
missing = sorted({n for e in exprs for n in re.findall(r"\b(?:llmcached|redis)_[a-z0-9_]+", e)} - served)
assert not missing, f"not served: {missing}"
PY
}

dashboard_rejected() { ! dashboard_names_served "$@"; }

DASHBOARDS=()
if [ -d "$DEPLOY/grafana" ]; then
    mapfile -t DASHBOARDS < <(find "$DEPLOY/grafana" -name '*.json' | sort)
fi
run_check "Grafana dashboards are valid JSON: ${#DASHBOARDS[@]} files" "$PY" -c '
import json, sys
assert sys.argv[1:], "no dashboard in deploy/grafana"
for path in sys.argv[1:]:
    d = json.load(open(path))
    assert d["title"] and d["uid"] and d["panels"], path
' "${DASHBOARDS[@]}"

BIN=${LLMCACHED_BIN:-$ROOT/target/release/llmcached}
if [ ! -x "$BIN" ]; then
    skip "dashboard queries name served metrics (no binary at $BIN)"
else
    MPORT=$(free_port)
    : >"$WORK/metrics.log"
    "$BIN" --port 0 --bind 127.0.0.1 --save "" --appendonly no --metrics-port "$MPORT" \
        >"$WORK/metrics.log" 2>&1 &
    SERVER_PID=$!
    for ((i = 0; i < 200; i++)); do
        grep -q "metrics on http://" "$WORK/metrics.log" && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    if python3 -c 'import sys, urllib.request
open(sys.argv[2], "wb").write(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=10).read())' \
        "$MPORT" "$WORK/scrape.txt" >"$WORK/out" 2>&1; then
        for d in "${DASHBOARDS[@]}"; do
            run_check "$(basename "$d"): every query names a served metric" \
                dashboard_names_served "$d" "$WORK/scrape.txt"
        done
        sed 's/llmcached_lookups_total/llmcached_lookups_totl/' "${DASHBOARDS[0]}" >"$WORK/broken.json"
        run_check "the dashboard check catches a misspelt metric" \
            dashboard_rejected "$WORK/broken.json" "$WORK/scrape.txt"
    else
        cat "$WORK/metrics.log" >>"$WORK/out"
        fail "dashboard queries name served metrics: no scrape" "$WORK/out"
    fi
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
fi

# tls_starts BIN: deploy/redis-tls.conf with its paths pointed at a throwaway CA and the example
# aclfile, on a free loopback port: TLS only, the probe user answers PONG over TLS, the default
# user is off, and plain text gets no reply.
tls_starts() {
    local bin=$1 d="$WORK/tls" port i ok=0
    mkdir -p "$d/acl" "$d/data"
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 -days 2 -subj "/CN=check-deploy CA" "${ec[@]}" -keyout "$d/ca.key" -out "$d/ca.crt" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign >/dev/null 2>&1
    openssl req -subj /CN=localhost "${ec[@]}" -keyout "$d/tls.key" -out "$d/tls.csr" >/dev/null 2>&1
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$d/ext"
    openssl x509 -req -in "$d/tls.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -set_serial 9 -days 2 \
        -extfile "$d/ext" -out "$d/tls.crt" >/dev/null 2>&1
    "$PY" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["stringData"]["users.acl"], end="")' \
        "$DEPLOY/k8s-tls/secret-acl.yaml" >"$d/acl/users.acl"
    port=$(free_port)
    sed -e "s|/etc/llmcached-tls/|$d/|" -e "s|/etc/llmcached-acl/|$d/acl/|" -e "s|^tls-port .*|tls-port $port|" \
        -e "s|^bind .*|bind 127.0.0.1|" -e "s|^dir .*|dir $d/data|" "$DEPLOY/redis-tls.conf" >"$d/check.conf"
    "$bin" "$d/check.conf" >"$WORK/tls.log" 2>&1 &
    SERVER_PID=$!
    for ((i = 0; i < 200; i++)); do
        if grep -q "listening on 127.0.0.1:$port" "$WORK/tls.log"; then ok=1; break; fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    {
        [ "$ok" = 1 ] || { echo "did not start"; cat "$WORK/tls.log"; }
        local cli=(redis-cli -h 127.0.0.1 -p "$port" --tls --cacert "$d/ca.crt")
        out=$("${cli[@]}" --user probe --pass probe --no-auth-warning ping 2>&1)
        [ "$out" = PONG ] || echo "probe over TLS: $out"
        out=$("${cli[@]}" ping 2>&1)
        case $out in NOAUTH*) ;; *) echo "default user: $out" ;; esac
        out=$(timeout 5 redis-cli -h 127.0.0.1 -p "$port" ping 2>&1 || true)
        [ "$out" != PONG ] || echo "plain text was answered on the TLS port"
    } >"$WORK/tls.out" 2>&1
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
    if [ -s "$WORK/tls.out" ]; then
        fail "deploy/redis-tls.conf starts llmcached serving TLS with the example users" "$WORK/tls.out"
    else
        pass "deploy/redis-tls.conf starts llmcached serving TLS with the example users"
    fi
}

BIN=${LLMCACHED_BIN:-$ROOT/target/release/llmcached}
if ! command -v redis-cli >/dev/null || ! command -v openssl >/dev/null; then
    skip "deploy/redis-tls.conf with llmcached (redis-cli or openssl not installed)"
elif [ -x "$BIN" ]; then
    tls_starts "$BIN"
else
    skip "deploy/redis-tls.conf with llmcached (no binary at $BIN)"
fi

# The scale-out files' own commands, run here: three Debian redis-server processes with the Redis
# nodes' arguments joined by the file's `redis-cli --cluster create`, then llmcached with the
# nodes' flags and those three as its seeds (scripts/lib/scale_out_check.py).
BIN=${LLMCACHED_BIN:-$ROOT/target/release/llmcached}
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    skip "scale-out files' commands with real servers (redis-server or redis-cli not installed)"
elif [ ! -x "$BIN" ]; then
    skip "scale-out files' commands with real servers (no binary at $BIN)"
else
    for variant in k8s compose; do
        rm -rf "$WORK/scale-$variant" && mkdir -p "$WORK/scale-$variant"
        run_check "scale-out $variant: its Redis Cluster forms with three masters and llmcached starts on it" \
            "$PY" "$ROOT/scripts/lib/scale_out_check.py" "$variant" "$DEPLOY" "$BIN" "$WORK/check.conf" \
            "$WORK/scale-$variant"
    done
fi

junit_write deploy
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
