#!/usr/bin/env bash
# Load benchmark of release builds on loopback (wrk, installed from Debian if missing).
#
#   bash scripts/bench.sh                              (or `just bench`) builds target/release/accueil
#                                                      and measures it alone
#   BIN=path/to/accueil bash scripts/bench.sh          one prebuilt binary, no build
#   OLD=path/to/before NEW=path/to/after bash scripts/bench.sh
#                                                      before/after: both binaries, alternating
#   DURATION=10s ROUNDS=3 CONNS=32 BACKENDS="sqlite postgres flood" bash scripts/bench.sh
#
# Scenarios (BACKENDS, any of these, in this order):
#   sqlite    each binary gets its own server on a fresh temporary data directory;
#   postgres  the same with a fresh database each (created and dropped through PG_URL, default
#             postgres://postgres@127.0.0.1:5432; scripts/ensure-postgres.sh starts the local
#             cluster when it is down). Both measure, at CONNS connections, ENDPOINTS among
#               goal      GET /api/v1/goals/{id} (a couple's goal with 3 actions)
#               me        GET /api/v1/auth/me (JWT check plus user and session look-ups)
#               question  POST /api/v1/qna/questions (a write)
#               health    GET /health (not in the default list)
#   flood     SQLite: GET /api/v1/auth/me alone at CONNS connections, then the same load while
#             FLOOD_CONNS (8) other connections POST /api/v1/auth/login; then one login at a time
#             (1 connection), which gives the bcrypt ceiling: cores / the time of one login.
#
# Method: every binary's server is started once per scenario and set up the same way (register,
# log in, create a couple, a goal and 3 actions). Each endpoint is warmed up (WARMUP, 2s) on
# every server, then measured for ROUNDS rounds (3) of DURATION (10s), alternating between the
# binaries within each round (old, new, old, new, ...), so that the machine's swings (two
# shared vCPUs can vary 2x within minutes) hit both sides alike; tables give every round and
# the medians, and new/old is the ratio of the median req/s. Running the same binary as OLD and
# NEW shows how large the noise is (the ratios should be near 1.00).
#
# Other settings: OLD_LABEL/NEW_LABEL (old, new), FLOOD_CONNS (8), ACCUEIL_BCRYPT_COST (12),
# ENDPOINTS ("goal me question"), WARMUP (0 to skip), MAX_SECONDS (the time limit; default one
# and a half times the planned measuring time plus 3 minutes), KEEP_LOGS=dir (copy the server
# logs there before the temporary directory goes). A default OLD/NEW run takes about 10 minutes.
#
# The servers log at info level to a file, as in production; rate limits on login,
# registration and mail are lifted (they would answer 429 within a second) and access tokens
# last 24h. On exit, even after an error or at the time limit, the script stops every server it
# started, drops its databases and removes its temporary directory; whatever was measured by
# then is still printed.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10s}"
ROUNDS="${ROUNDS:-3}"
CONNS="${CONNS:-32}"
FLOOD_CONNS="${FLOOD_CONNS:-8}"
WARMUP="${WARMUP:-2s}"
COST="${ACCUEIL_BCRYPT_COST:-12}"
BACKENDS="${BACKENDS:-sqlite postgres flood}"
ENDPOINTS="${ENDPOINTS:-goal me question}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
PG_URL="${PG_URL%/}"

say() { echo "bench: $*" >&2; }
die() { say "$*"; exit 1; }

secs() { # a wrk duration (10, 10s, 2m, 1h) in seconds
  case "$1" in
    *s) echo "${1%s}" ;;
    *m) echo $(( ${1%m} * 60 )) ;;
    *h) echo $(( ${1%h} * 3600 )) ;;
    *) echo "$1" ;;
  esac
}
dur_s="$(secs "$DURATION")"
warm_s=0
[ "$WARMUP" = 0 ] || warm_s="$(secs "$WARMUP")"
[[ "$dur_s" =~ ^[0-9]+$ && "$warm_s" =~ ^[0-9]+$ && "$ROUNDS" =~ ^[1-9][0-9]*$ ]] \
  || die "DURATION and WARMUP must be whole seconds (10, 10s, 2m), ROUNDS a positive number"
for b in $BACKENDS; do
  case "$b" in sqlite|postgres|flood) ;; *) die "unknown backend $b (sqlite, postgres, flood)" ;; esac
done
for e in $ENDPOINTS; do
  case "$e" in goal|me|question|health) ;; *) die "unknown endpoint $e (goal, me, question, health)" ;; esac
done

# --- the binaries -------------------------------------------------------------------------------
labels=()
bins=()
if [ -n "${OLD:-}" ] && [ -n "${NEW:-}" ]; then
  labels=("${OLD_LABEL:-old}" "${NEW_LABEL:-new}")
  bins=("$OLD" "$NEW")
  [ "${labels[0]}" != "${labels[1]}" ] || die "OLD_LABEL and NEW_LABEL must differ"
  # The labels travel to the table renderer as one comma-separated argument.
  case "${labels[*]}" in *,*) die "OLD_LABEL and NEW_LABEL cannot contain a comma";; esac
elif [ -n "${OLD:-}${NEW:-}${BIN:-}" ]; then
  [ -z "${BIN:-}" ] || [ -z "${OLD:-}${NEW:-}" ] || die "give BIN, or OLD and NEW"
  labels=("${BIN_LABEL:-accueil}")
  bins=("${BIN:-${OLD:-${NEW:-}}}")
else
  cargo build --release --quiet --bin accueil
  labels=("${BIN_LABEL:-accueil}")
  bins=("target/release/accueil")
fi
n="${#bins[@]}"
for i in $(seq 0 $((n - 1))); do
  [ -x "${bins[$i]}" ] || die "${bins[$i]} is not an executable file"
  bins[$i]="$(cd "$(dirname "${bins[$i]}")" && pwd)/$(basename "${bins[$i]}")"
done

if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk"
  (apt-get install -y -qq wrk >/dev/null 2>&1) || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
fi

# --- time limit and clean-up --------------------------------------------------------------------
n_ep="$(echo $ENDPOINTS | wc -w)"
planned=0 servers=0
for b in $BACKENDS; do
  case "$b" in
    sqlite|postgres) planned=$(( planned + n * n_ep * (warm_s + ROUNDS * dur_s) )); servers=$(( servers + n )) ;;
    flood) planned=$(( planned + n * (warm_s + 3 * ROUNDS * dur_s) )); servers=$(( servers + n )) ;;
  esac
done
runs=$(( planned / (dur_s > 0 ? dur_s : 1) ))
planned=$(( planned + servers * 5 + runs ))  # start-up and set-up (bcrypt twice); settling after runs
MAX_SECONDS="${MAX_SECONDS:-$(( planned * 3 / 2 + 180 ))}"

work="$(mktemp -d "${TMPDIR:-/tmp}/accueil-bench.XXXXXX")"
results="$work/results.jsonl"
: >"$results"
server_pids=""    # every server started, for the clean-up
databases=""      # every PostgreSQL database created
flood_pid=""
rendered=""
watchdog=""
header_text=""

cleanup() {
  local rc=$? pid db t
  trap - EXIT INT TERM
  set +e
  if [ -n "$watchdog" ]; then kill "$watchdog" 2>/dev/null; wait "$watchdog" 2>/dev/null; fi
  if [ -n "$flood_pid" ]; then
    pkill -P "$flood_pid" 2>/dev/null; kill "$flood_pid" 2>/dev/null; wait "$flood_pid" 2>/dev/null
  fi
  for pid in $server_pids; do kill -TERM "$pid" 2>/dev/null; done
  for pid in $server_pids; do
    for t in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for db in $databases; do
    timeout 30 psql "$PG_URL/postgres" -qX -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 \
      || say "could not drop database $db"
  done
  if [ -z "$rendered" ] && [ -s "$results" ]; then
    echo
    echo "(incomplete: the run stopped early, exit status $rc)"
    echo "$header_text"
    render
  fi
  if [ -n "${KEEP_LOGS:-}" ]; then
    mkdir -p "$KEEP_LOGS" && for f in "$work"/*/server.log; do
      [ -e "$f" ] && cp "$f" "$KEEP_LOGS/$(basename "$(dirname "$f")").log"
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "stopped (time limit of ${MAX_SECONDS}s, or a signal)"; exit 124' TERM
main_pid=$$
( trap 'kill "$s" 2>/dev/null; exit 0' TERM
  sleep "$MAX_SECONDS" & s=$!
  wait "$s"
  kill -TERM "$main_pid" 2>/dev/null ) &
watchdog=$!

# --- helpers in Python ----------------------------------------------------------------------------
cat >"$work/setup.py" <<'PY'
# Registers a user, logs in, creates a couple, a goal and 3 actions, and checks that every
# request the benchmark makes succeeds; prints "token goal_id".
import json, sys, urllib.request, urllib.error
base, email, password = sys.argv[1:4]

def call(method, path, body=None, token=None, expect=(200, 201, 204)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    if status not in expect:
        sys.exit(f"set-up: {method} {path} answered {status}: {text[:300]}")
    return json.loads(text) if text else None

call("POST", "/api/v1/auth/register", {"email": email, "password": password})
token = call("POST", "/api/v1/auth/login", {"login": email, "password": password})["access_token"]
call("POST", "/api/v1/couple", token=token)
goal = call("POST", "/api/v1/goals", {
    "title": "Learn Portuguese",
    "description": "Enough to order dinner in Lisbon and chat with the neighbours.",
    "target_date": "2027-06-30",
}, token=token)["id"]
for title, owner, due in [("Find a teacher", "A", "2027-01-15"),
                          ("Watch a film a week without subtitles", "BOTH", None),
                          ("Book the flights", "B", "2027-05-01")]:
    action = {"title": title, "owner": owner}
    if due:
        action["due_date"] = due
    call("POST", f"/api/v1/goals/{goal}/actions", action, token=token)
got = call("GET", f"/api/v1/goals/{goal}", token=token, expect=(200,))
# A goal's answer counts its actions (`{"total": 3, "done": 0}`); they are read page by page.
if got.get("actions", {}).get("total") != 3:
    sys.exit(f"set-up: the goal counts {got.get('actions')} actions, not 3")
call("GET", "/api/v1/auth/me", token=token, expect=(200,))
call("POST", "/api/v1/qna/questions", {"text": "Where should we travel next?"}, token=token, expect=(201,))
print(token, goal)
PY

cat >"$work/parse.py" <<'PY'
# Appends one wrk run to the results file and prints a progress line.
import json, re, sys
out, results, backend, scenario, label, rnd, title = sys.argv[1:8]
text = open(out).read()

def latency_ms(s):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", s)
    if not m:
        return None
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]

def find(pattern, conv=float):
    m = re.search(pattern, text, re.M)
    return conv(m.group(1)) if m else None

rps = find(r"Requests/sec:\s+([\d.]+)")
requests = find(r"^\s*(\d+) requests in", int)
if rps is None:
    sys.exit(f"bench: no result from wrk for {backend} {scenario} {label}:\n{text}")
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
row = {
    "backend": backend, "scenario": scenario, "label": label, "round": int(rnd),
    "rps": rps,
    "requests": requests,
    "p50_ms": find(r"^\s*50%\s+(\S+)", latency_ms) if requests else None,
    "p99_ms": find(r"^\s*99%\s+(\S+)", latency_ms) if requests else None,
    "non2xx": find(r"Non-2xx or 3xx responses:\s+(\d+)", int) or 0,
    "socket_errors": sum(int(x) for x in sock.groups()) if sock else 0,
}
with open(results, "a") as f:
    f.write(json.dumps(row) + "\n")
v = row["p99_ms"]
p99 = "-" if v is None else (f"{v / 1000:.3g} s" if v >= 1000 else f"{v:.3g} ms")
bad = row["non2xx"] + row["socket_errors"]
warn = f"  ({row['non2xx']} non-2xx, {row['socket_errors']} socket errors)" if bad else ""
if not requests:
    warn += "  (no request completed)"
print(f"  {backend:8} {title:48} {label:>8}  round {rnd}: {rps:>10,.2f} req/s  p99 {p99}{warn}",
      file=sys.stderr)
PY

cat >"$work/render.py" <<'PY'
# Markdown tables from the results file: one per scenario, one row per endpoint and binary.
import json, os, statistics, sys
results, labels, cores = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
titles = json.loads(os.environ["BENCH_TITLES"])
dbs = json.loads(os.environ["BENCH_DBS"])
rows = [json.loads(l) for l in open(results) if l.strip()]
compare = len(labels) == 2

def num(v):
    return "-" if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:.2f}")

def ms(v):
    if v is None:
        return "-"
    return f"{v / 1000:.3g} s" if v >= 1000 else f"{v:.3g} ms"

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

def runs(backend, scenario, label):
    return sorted((r for r in rows if (r["backend"], r["scenario"], r["label"]) == (backend, scenario, label)),
                  key=lambda r: r["round"])

for backend in dict.fromkeys(r["backend"] for r in rows):
    mine = [r for r in rows if r["backend"] == backend]
    nrounds = max(r["round"] for r in mine)
    print(f"\n### {backend}: {dbs.get(backend, '')}\n")
    head = ["endpoint"] + (["binary"] if compare else []) + [f"round {i}" for i in range(1, nrounds + 1)] \
        + ["median req/s", "median p99"] + (["new/old"] if compare else [])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    problems, medians = [], {}
    for scenario in dict.fromkeys(r["scenario"] for r in mine):
        for label in labels:
            rs = runs(backend, scenario, label)
            if not rs:
                continue
            by_round = {r["round"]: r for r in rs}
            m_rps, m_p99 = med([r["rps"] for r in rs]), med([r["p99_ms"] for r in rs])
            medians[(scenario, label)] = (m_rps, m_p99)
            cells = [titles.get(scenario, scenario)] + ([label] if compare else []) \
                + [num(by_round[i]["rps"]) if i in by_round else "-" for i in range(1, nrounds + 1)] \
                + [num(m_rps), ms(m_p99)]
            if compare:
                old = medians.get((scenario, labels[0]), (None, None))[0]
                cells.append(f"{m_rps / old:.2f}" if label == labels[1] and old and m_rps else "")
            print("| " + " | ".join(cells) + " |")
            for r in rs:
                if not r["requests"]:
                    problems.append(f"{titles.get(scenario, scenario)}, {label}, round {r['round']}: "
                                    "no request completed (DURATION too short for it?)")
                elif r["non2xx"] or r["socket_errors"]:
                    problems.append(f"{titles.get(scenario, scenario)}, {label}, round {r['round']}: "
                                    f"{r['non2xx']} non-2xx answers, {r['socket_errors']} socket errors "
                                    f"(of {r['requests']} requests)")
    if backend == "flood":
        print()
        for label in labels:
            alone, flood = medians.get(("me_alone", label)), medians.get(("me_flood", label))
            logins, one = medians.get(("login_flood", label)), medians.get(("login_one", label))
            parts = []
            if alone and flood and alone[0] and flood[0] and alone[1] and flood[1]:
                parts.append(f"/me p99 {ms(alone[1])} alone, {ms(flood[1])} during the login flood "
                             f"(x{flood[1] / alone[1]:.1f}); /me {num(alone[0])} -> {num(flood[0])} req/s "
                             f"({100 * flood[0] / alone[0]:.0f}%)")
            if logins and one and one[0]:
                hash_ms = 1000.0 / one[0]
                ceiling = cores * one[0]
                parts.append(f"logins {logins[0]:.2f}/s during the flood; one login alone {hash_ms:.0f} ms -> "
                             f"bcrypt ceiling {cores} cores / {hash_ms:.0f} ms = {ceiling:.2f} logins/s "
                             f"({100 * logins[0] / ceiling:.0f}% of it)")
            if parts:
                print(f"- {label}: " + "; ".join(parts))
    if problems:
        print("\nwrk reported errors (the figures above count only the successful answers):")
        for p in problems:
            print(f"- {p}")
PY

# --- servers ------------------------------------------------------------------------------------
# Per binary index i, for the scenario being run: srv_pid, srv_base, srv_dir, srv_db.
declare -a srv_pid srv_base srv_dir srv_db
secret="bench-$(head -c 32 /dev/urandom | base64 | tr -d '/+=' | head -c 40)"
password="correct horse battery staple"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

log_tail() { [ -f "$1" ] && { say "last lines of $1:"; tail -n 20 "$1" >&2; } || true; }

start_server() { # index, backend (sqlite or postgres)
  local i="$1" backend="$2" dir port url="" db="" pid
  dir="$work/$backend-${labels[$i]}"
  mkdir -p "$dir"
  if [ "$backend" = postgres ]; then
    db="accueil_bench_${main_pid}_${i}_$(date +%s)"
    timeout 30 psql "$PG_URL/postgres" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null \
      || die "could not create database $db at $PG_URL"
    databases="$databases $db"
    url="$PG_URL/$db"
  fi
  port="$(free_port)"
  env -u DATABASE_URL \
    ACCUEIL_DATA_DIR="$dir" ACCUEIL_BIND="127.0.0.1:$port" ACCUEIL_JWT_SECRET="$secret" \
    ACCUEIL_BCRYPT_COST="$COST" RUST_LOG="${RUST_LOG:-info}" ACCUEIL_ACCESS_TTL=24h \
    ACCUEIL_RATE_LOGIN_IP=1000000000/1s ACCUEIL_RATE_LOGIN_ACCOUNT=1000000000/1s \
    ACCUEIL_RATE_REGISTER_IP=1000000000/1s ACCUEIL_RATE_MAIL_IP=1000000000/1s \
    ACCUEIL_RATE_MAIL_ACCOUNT=1000000000/1s \
    ${url:+DATABASE_URL="$url"} \
    "${bins[$i]}" serve >"$dir/server.log" 2>&1 &
  pid=$!
  server_pids="$server_pids $pid"
  srv_pid[$i]="$pid" srv_base[$i]="http://127.0.0.1:$port" srv_dir[$i]="$dir" srv_db[$i]="$db"
  for _ in $(seq 1 300); do
    curl -fsS --max-time 2 "${srv_base[$i]}/health" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { log_tail "$dir/server.log"; die "${labels[$i]} exited on start-up ($backend)"; }
    sleep 0.1
  done
  log_tail "$dir/server.log"
  die "${labels[$i]} did not answer /health within 30s ($backend)"
}

stop_server() { # index
  local i="$1" pid="${srv_pid[$1]}" db="${srv_db[$1]}" rest=""
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in $server_pids; do [ "$p" = "$pid" ] || rest="$rest $p"; done
  server_pids="$rest"
  if [ -n "$db" ]; then
    timeout 30 psql "$PG_URL/postgres" -qX -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null || say "could not drop database $db"
    rest=""
    for d in $databases; do [ "$d" = "$db" ] || rest="$rest $d"; done
    databases="$rest"
  fi
}

set_up() { # index: a user with a couple, a goal and 3 actions; wrk scripts for every endpoint
  local i="$1" dir="${srv_dir[$1]}" email token goal
  email="bench-${labels[$i]}-$(date +%s)@example.org"
  read -r token goal < <(python3 "$work/setup.py" "${srv_base[$i]}" "$email" "$password") \
    || { log_tail "$dir/server.log"; die "set-up failed for ${labels[$i]}"; }
  [ -n "${goal:-}" ] || { log_tail "$dir/server.log"; die "set-up failed for ${labels[$i]}"; }
  printf '%s\n' 'wrk.method = "GET"' >"$dir/health.lua"
  printf 'wrk.method = "GET"\nwrk.headers["Authorization"] = "Bearer %s"\n' "$token" >"$dir/me.lua"
  cp "$dir/me.lua" "$dir/goal.lua"
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer %s"\nwrk.body = %s\n' \
    "$token" "'{\"text\": \"Where should we travel next?\"}'" >"$dir/question.lua"
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' \
    "'{\"login\": \"$email\", \"password\": \"$password\"}'" >"$dir/login.lua"
  echo "/health" >"$dir/health.path"
  echo "/api/v1/auth/me" >"$dir/me.path"
  echo "/api/v1/goals/$goal" >"$dir/goal.path"
  echo "/api/v1/qna/questions" >"$dir/question.path"
  echo "/api/v1/auth/login" >"$dir/login.path"
}

declare -A title=(
  [health]="GET /health"
  [goal]="GET /api/v1/goals/{id}"
  [me]="GET /api/v1/auth/me"
  [question]="POST /api/v1/qna/questions"
  [me_alone]="GET /api/v1/auth/me, alone"
  [me_flood]="GET /api/v1/auth/me, during the login flood"
  [login_flood]="POST /api/v1/auth/login, the flood ($FLOOD_CONNS conns)"
  [login_one]="POST /api/v1/auth/login, alone (1 conn)"
)

alive() { # index
  kill -0 "${srv_pid[$1]}" 2>/dev/null \
    || { log_tail "${srv_dir[$1]}/server.log"; die "${labels[$1]} has exited"; }
}

wrk_run() { # index, endpoint, connections, duration, output file
  local i="$1" ep="$2" c="$3" d="$4" out="$5" t=2
  [ "$c" -ge 2 ] || t=1
  wrk -t"$t" -c"$c" -d"$d" --timeout 30s --latency -s "${srv_dir[$i]}/$ep.lua" \
    "${srv_base[$i]}$(cat "${srv_dir[$i]}/$ep.path")" >"$out" 2>&1 \
    || { cat "$out" >&2; die "wrk failed against ${labels[$i]}"; }
}

cpu_ticks() { # pid: user plus system CPU time so far, in clock ticks
  sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0
}

settle() { # index: wait (at most 15s) until the server is idle, e.g. done with the password
  # hashes of logins that wrk stopped waiting for, so that they do not slow the next run
  local pid="${srv_pid[$1]}" a b
  for _ in $(seq 1 30); do
    a="$(cpu_ticks "$pid")"
    sleep 0.5
    b="$(cpu_ticks "$pid")"
    [ $(( b - a )) -gt 5 ] || return 0   # under a tenth of a core
  done
  say "${labels[$1]} still busy after 15s; going on"
}

measure() { # backend, scenario, index, round, endpoint, connections
  local out="$work/run-$1-$2-$3-$4.txt"
  wrk_run "$3" "$5" "$6" "$DURATION" "$out"
  alive "$3"
  [ "$2" = me_flood ] || settle "$3"
  python3 "$work/parse.py" "$out" "$results" "$1" "$2" "${labels[$3]}" "$4" "${title[$2]}"
}

warm_up() { # endpoint, connections
  local i
  [ "$warm_s" -gt 0 ] || return 0
  for i in $(seq 0 $((n - 1))); do
    wrk_run "$i" "$1" "$2" "${warm_s}s" "$work/warmup.txt"
    alive "$i"
    settle "$i"
  done
}

# --- the run ------------------------------------------------------------------------------------
pg_version=""
if [[ " $BACKENDS " == *" postgres "* ]]; then
  TEST_DATABASE_URL="$PG_URL/postgres" bash scripts/ensure-postgres.sh >&2 \
    || die "no PostgreSQL at $PG_URL (set PG_URL, or leave postgres out of BACKENDS)"
  pg_version="$(timeout 30 psql "$PG_URL/postgres" -qXtA -c 'show server_version' | awk '{print $1}')"
  # Databases left by an earlier run that was killed (its process is gone).
  for db in $(timeout 30 psql "$PG_URL/postgres" -qXtA -c "select datname from pg_database where datname ~ '^accueil_bench_[0-9]+_'"); do
    p="${db#accueil_bench_}"; p="${p%%_*}"
    if ! kill -0 "$p" 2>/dev/null; then
      say "dropping $db, left by an earlier run"
      timeout 30 psql "$PG_URL/postgres" -qX -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null || true
    fi
  done
fi

declare -A dbs=(
  [sqlite]="SQLite (a temporary data directory per server), $CONNS connections"
  [postgres]="PostgreSQL $pg_version at ${PG_URL#*@} (a fresh database per server), $CONNS connections"
  [flood]="SQLite; GET /api/v1/auth/me at $CONNS connections, alone and with $FLOOD_CONNS connections logging in; bcrypt cost $COST"
)
export BENCH_TITLES BENCH_DBS
BENCH_TITLES="$(for k in "${!title[@]}"; do printf '%s\0%s\0' "$k" "${title[$k]}"; done \
  | python3 -c 'import json,sys; v=sys.stdin.read().split("\0")[:-1]; print(json.dumps(dict(zip(v[::2], v[1::2]))))')"
BENCH_DBS="$(for k in "${!dbs[@]}"; do printf '%s\0%s\0' "$k" "${dbs[$k]}"; done \
  | python3 -c 'import json,sys; v=sys.stdin.read().split("\0")[:-1]; print(json.dumps(dict(zip(v[::2], v[1::2]))))')"

render() {
  python3 "$work/render.py" "$results" "$(IFS=,; echo "${labels[*]}")" "$(nproc)"
}

header() {
  local i b sums="" names=""
  for b in $BACKENDS; do
    [ "$b" = postgres ] && names="$names, PostgreSQL $pg_version"
    [ "$b" = postgres ] || [[ "$names" == *sqlite* ]] || names="$names, sqlite (temporary)"
  done
  echo "machine: $(nproc) cores; $(uname -sr); database: ${names#, }"
  echo "bcrypt cost $COST; wrk on loopback, $CONNS connections; $ROUNDS round(s) of $DURATION per binary and endpoint, alternating; warm-up $WARMUP"
  for i in $(seq 0 $((n - 1))); do
    local sum
    sum="$(sha256sum "${bins[$i]}" | cut -c1-12)"
    sums="$sums $sum"
    echo "${labels[$i]}: ${bins[$i]} (sha256 $sum, built $(date -r "${bins[$i]}" '+%Y-%m-%d %H:%M'))"
  done
  if [ "$n" = 2 ] && [ "$(echo $sums | awk '{print $1}')" = "$(echo $sums | awk '{print $2}')" ]; then
    echo "(the same binary on both sides: the ratios show the noise of this machine)"
  fi
}

say "planned measuring time about $(( (planned + 59) / 60 )) min; time limit ${MAX_SECONDS}s"
header_text="$(header)"
echo "$header_text" >&2

for backend in $BACKENDS; do
  kind="$backend"
  [ "$backend" = flood ] && kind=sqlite
  say "$backend: starting ${labels[*]}"
  for i in $(seq 0 $((n - 1))); do
    start_server "$i" "$kind"
    set_up "$i"
  done
  if [ "$backend" = flood ]; then
    warm_up me "$CONNS"
    for r in $(seq 1 "$ROUNDS"); do
      for i in $(seq 0 $((n - 1))); do measure flood me_alone "$i" "$r" me "$CONNS"; done
      for i in $(seq 0 $((n - 1))); do
        fout="$work/run-flood-login_flood-$i-$r.txt"
        wrk_run "$i" login "$FLOOD_CONNS" "$DURATION" "$fout" &
        flood_pid=$!
        measure flood me_flood "$i" "$r" me "$CONNS"
        wait "$flood_pid" || die "the login flood failed against ${labels[$i]}"
        flood_pid=""
        python3 "$work/parse.py" "$fout" "$results" flood login_flood "${labels[$i]}" "$r" "${title[login_flood]}"
        settle "$i"
      done
      for i in $(seq 0 $((n - 1))); do measure flood login_one "$i" "$r" login 1; done
    done
  else
    for ep in $ENDPOINTS; do
      warm_up "$ep" "$CONNS"
      for r in $(seq 1 "$ROUNDS"); do
        for i in $(seq 0 $((n - 1))); do measure "$backend" "$ep" "$i" "$r" "$ep" "$CONNS"; done
      done
    done
  fi
  for i in $(seq 0 $((n - 1))); do stop_server "$i"; done
done

echo
echo "$header_text"
render
rendered=yes
say "done in $(( SECONDS / 60 ))m$(( SECONDS % 60 ))s"
