#!/usr/bin/env bash
# Checks that the OpenAPI document is exact: schemathesis generates requests from
# /api/v1/openapi.json (valid ones and invalid ones) against a fresh debug server and checks
# every answer against the document, with every check it has (`--checks all`): no 5xx, only
# documented statuses, content types and headers, bodies that match their schema, schema-valid
# requests accepted and schema-invalid ones refused, 405 with `Allow` for other methods, ...
#
#   bash scripts/schemathesis.sh             (CI runs it after the tests)
#   EXAMPLES=100 SEED=7 bash scripts/schemathesis.sh
#   KEEP=dir bash scripts/schemathesis.sh    keeps the server log, the configs and the reports
#
# What it does:
#   1. installs schemathesis $VERSION into target/schemathesis-venv (reused when present);
#   2. builds target/debug/accueil (`cargo build -p accueil-server --bin accueil --locked`);
#   3. starts a server on a free loopback port with a temporary data directory and SQLite,
#      rate limits lifted (they would answer 429 within seconds of fuzzing; 429 stays
#      documented and the Rust tests cover it) and access tokens that outlive the run;
#   4. seeds it over the API: two users paired into a couple (invite + join), a question with
#      an answer, a goal with an action, a check-in, a letter, a memory with a photo and one
#      without, a perspective, a share link, two API keys, a tenant of the first user's (their
#      address verified with the link mailed to the data directory) with a pending
#      invitation; the ids go into the schemathesis
#      config as dictionaries, so that half of the generated path ids are real ones;
#   5. runs schemathesis (one worker, a fixed seed, positive and negative data):
#        main      every operation but the five that end the caller's session, couple or
#                  tenant (logout, logout_all, leave, delete_me, delete_tenant), with
#                  `Authorization: Bearer`, all four phases (examples, coverage, fuzzing,
#                  stateful);
#        api_key   the same operations with `X-API-Key` (a read_write key of its own), the
#                  examples and fuzzing phases, a third of the examples;
#        logout, logout_all, leave, delete_me, delete_tenant
#                  each alone, each with a couple (and tenant) of its own, seeded the same way, the
#                  examples, coverage and fuzzing phases; after the first success the token or
#                  the couple is gone, and the 401/404 answers that follow are documented too.
#                  delete_me's run is given the real password, so the account is deleted;
#      so every operation of the document is exercised, all but four of them twice;
#   6. fails (non-zero exit) when any run reports a failure or an error.
#
# Where the document cannot say what the server checks, the config lets the
# positive_data_acceptance check accept one more status for the operations concerned, each
# with its reason (see `exceptions` below): tokens and invite codes the server never issued
# (400), the password dictionary and byte limit (422), expiries that must be in the future
# (422), delivery and check-in days relative to today (422), photo bytes that must decode (415),
# and the WebSocket endpoint, which answers 426 to any request that is not a handshake.
#
# The run is bounded: EXAMPLES test cases per operation and phase (default 50), and MAX_SECONDS
# (default 600) for the whole script; about 3 minutes on the CI machine with a built binary.
# On exit the server is stopped and the temporary directory removed.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
EXAMPLES="${EXAMPLES:-50}"
SEED="${SEED:-20261201}"
MAX_SECONDS="${MAX_SECONDS:-600}"
venv="$PWD/target/schemathesis-venv"

say() { echo "schemathesis.sh: $*" >&2; }
die() { say "$*"; exit 1; }

[[ "$EXAMPLES" =~ ^[1-9][0-9]*$ && "$SEED" =~ ^[0-9]+$ && "$MAX_SECONDS" =~ ^[1-9][0-9]*$ ]] \
  || die "EXAMPLES and MAX_SECONDS must be positive numbers, SEED a number"

# --- schemathesis -------------------------------------------------------------------------------
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null || true)" != "schemathesis, version $VERSION" ]; then
  say "installing schemathesis $VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

# --- the server ---------------------------------------------------------------------------------
cargo build -p accueil-server --bin accueil --locked --quiet
bin="$PWD/target/debug/accueil"

work="$(mktemp -d "${TMPDIR:-/tmp}/accueil-schemathesis.XXXXXX")"
server_pid=""
watchdog=""
cleanup() {
  local rc=$? t
  trap - EXIT INT TERM
  set +e
  if [ -n "$watchdog" ]; then kill "$watchdog" 2>/dev/null; wait "$watchdog" 2>/dev/null; fi
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null
    for t in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  if [ "$rc" != 0 ] && [ -f "$work/data/server.log" ]; then
    say "last lines of the server log:"
    grep -v 'INFO' "$work/data/server.log" | tail -n 20 >&2
  fi
  if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP" && cp -r "$work"/. "$KEEP"/ && say "kept the server log, configs and reports in $KEEP"
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "stopped (time limit of ${MAX_SECONDS}s, or a signal)"; exit 124' TERM
main_pid=$$
deadline=$(( $(date +%s) + MAX_SECONDS ))
# The watchdog stops the script between commands; each schemathesis run has its own `timeout`
# up to the same deadline (a signal waits for the command in the foreground to end).
( trap 'kill "$s" 2>/dev/null; exit 0' TERM
  sleep "$MAX_SECONDS" & s=$!
  wait "$s"
  kill -TERM "$main_pid" 2>/dev/null ) &
watchdog=$!

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
mkdir -p "$work/data"
lifted=1000000000/1s
env -u DATABASE_URL \
  ACCUEIL_DATA_DIR="$work/data" ACCUEIL_BIND="127.0.0.1:$port" \
  ACCUEIL_JWT_SECRET="schemathesis-$(head -c 32 /dev/urandom | base64 | tr -d '/+=' | head -c 40)" \
  ACCUEIL_BCRYPT_COST=4 ACCUEIL_ACCESS_TTL=24h RUST_LOG=info NO_COLOR=1 \
  ACCUEIL_RATE_LOGIN_IP="$lifted" ACCUEIL_RATE_LOGIN_ACCOUNT="$lifted" \
  ACCUEIL_RATE_REGISTER_IP="$lifted" ACCUEIL_RATE_MAIL_IP="$lifted" \
  ACCUEIL_RATE_MAIL_ACCOUNT="$lifted" ACCUEIL_RATE_JOIN_USER="$lifted" \
  ACCUEIL_RATE_JOIN_IP="$lifted" ACCUEIL_RATE_WS_TICKET_USER="$lifted" \
  ACCUEIL_RATE_INVITE_USER="$lifted" \
  "$bin" serve >"$work/data/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  curl -fsS --max-time 2 "$base/health" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || die "the server exited on start-up"
  sleep 0.1
done
curl -fsS --max-time 2 "$base/health" >/dev/null || die "the server did not answer /health within 30s"

# --- seeding ------------------------------------------------------------------------------------
cat >"$work/seed.py" <<'PY'
# Seeds one couple over the API and writes a schemathesis config with its ids; prints the
# first partner's access token and API key (read_write). Every request must succeed.
import glob, json, os, re, struct, sys, time, urllib.error, urllib.request, uuid, zlib
from datetime import datetime, timedelta, timezone

base, name, config_path, password_too = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
PASSWORD = "schemathesis-" + uuid.uuid4().hex  # never one the generators could guess

def call(method, path, body=None, token=None, expect=(200, 201, 204), raw=None, ctype=None):
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", ctype or "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    if status not in expect:
        sys.exit(f"seed: {method} {path} answered {status}: {text[:300]}")
    return json.loads(text) if text else None

def png(w=4, h=3):
    raw = b"".join(b"\x00" + b"".join(bytes([(x * 60) % 256, (y * 80) % 256, 120]) for x in range(w)) for y in range(h))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

emails = {}

def user(tag):
    email = f"{name}-{tag}-{uuid.uuid4().hex[:8]}@example.org"
    call("POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD,
                                           "display_name": f"{tag.title()} {name}"}, expect=(201,))
    pair = call("POST", "/api/v1/auth/login", {"login": email, "password": PASSWORD}, expect=(200,))
    emails[pair["access_token"]] = email
    return pair["access_token"]

def verify(token, email):
    """Verifies `email` with the link the server mailed it (the file transport's .eml files)."""
    import email as mail
    deadline = time.time() + 20
    while time.time() < deadline:
        for path in glob.glob(os.path.join(os.environ["MAIL_DIR"], "**", "*.eml"), recursive=True):
            message = mail.message_from_bytes(open(path, "rb").read())
            if email not in str(message.get("To", "")):
                continue
            for part in message.walk():
                if part.get_content_type() != "text/plain":
                    continue
                text = part.get_payload(decode=True).decode("utf-8", "replace")
                found = re.search(r"verify-email\?token=([A-Za-z0-9_-]+)", text)
                if found:
                    call("POST", "/api/v1/auth/verify-email", {"token": found.group(1)}, expect=(204,))
                    return
        time.sleep(0.1)
    sys.exit(f"seed: no verification mail for {email}")

a, b = user("alice"), user("bob")
call("POST", "/api/v1/couple", token=a, expect=(201,))
code = call("POST", "/api/v1/couple/invite", {"ttl_minutes": 120}, token=a, expect=(201,))["code"]
call("POST", "/api/v1/couple/join", {"code": code}, token=b, expect=(200,))
call("PATCH", "/api/v1/couple/profile", {"time_zone": "Europe/Paris", "start_date": "2019-06-21",
                                         "home_message": "Welcome home"}, token=a, expect=(200,))
question = call("POST", "/api/v1/qna/questions", {"text": "Where should we travel next?", "theme": "travel"},
                token=a, expect=(201,))["id"]
call("POST", f"/api/v1/qna/questions/{question}/answers", {"status": "ANSWERED", "text": "Lisbon"},
     token=b, expect=(200,))
goal = call("POST", "/api/v1/goals", {"title": "Learn Portuguese", "target_date": "2027-06-30",
                                      "description": "Enough to order dinner in Lisbon."}, token=a, expect=(201,))["id"]
action = call("POST", f"/api/v1/goals/{goal}/actions", {"title": "Find a teacher", "owner": "A",
                                                        "due_date": "2027-01-15"}, token=a, expect=(201,))["id"]
checkin = call("POST", "/api/v1/checkins", {"mood": 7, "stress": 4, "energy": 6, "note": "A good day"},
               token=a, expect=(200,))["id"]
month = datetime.now(timezone.utc).strftime("%Y-%m")
letter = call("POST", "/api/v1/letters", {"month": month, "content": "Dear Bob, this month..."},
              token=a, expect=(200,))["id"]
boundary = "seed" + uuid.uuid4().hex
form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nOur first trip\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"happened_on\"\r\n\r\n2020-08-14\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"trip.png\"\r\n"
        "Content-Type: image/png\r\n\r\n").encode() + png() + f"\r\n--{boundary}--\r\n".encode()
with_photo = call("POST", "/api/v1/memories", raw=form, ctype=f"multipart/form-data; boundary={boundary}",
                  token=a, expect=(201,))["id"]
without_photo = call("POST", "/api/v1/memories", {"title": "The first dinner", "description": "Pasta."},
                     token=a, expect=(201,))["id"]
call("PUT", "/api/v1/perspectives/1", {"content": "How we met, as I remember it."}, token=a, expect=(200,))
share = call("POST", "/api/v1/couple/shares", {}, token=a, expect=(201,))
key = call("POST", "/api/v1/users/me/api-keys", {"name": "seed key", "scope": "read_write"},
           token=a, expect=(201,))
# The API-key run's own key: the one above is given to DELETE /users/me/api-keys/{id}.
run_key = call("POST", "/api/v1/users/me/api-keys", {"name": "schemathesis", "scope": "read_write"},
               token=a, expect=(201,))["secret"]

# A tenant (its creator's address must be verified) with a pending invitation; not for the
# run that deletes the account, which the tenant's last ADMIN could not do.
tenant_ids = {}
if name != "delete_me":
    verify(a, emails[a])
    slug = "t" + uuid.uuid4().hex[:12]
    call("POST", "/api/v1/tenants", {"slug": slug, "name": f"Tenant {name}", "time_zone": "Europe/Paris"},
         token=a, expect=(201,))
    me = call("GET", "/api/v1/users/me", token=a, expect=(200,))["id"]
    invitation = call("POST", f"/api/v1/tenants/{slug}/invitations",
                      {"email": f"invitee-{uuid.uuid4().hex[:8]}@example.org", "role": "AGENT"},
                      token=a, expect=(201,))["id"]
    t = f"/api/v1/tenants/{slug}"
    site = call("POST", f"{t}/sites", {"name": "Head office"}, token=a, expect=(201,))["id"]
    service = call("POST", f"{t}/services", {"site_id": site, "name": "Accounts", "prefix": "A"},
                   token=a, expect=(201,))["id"]
    queue = call("POST", f"{t}/queues", {"service_id": service, "name": "Main"}, token=a, expect=(201,))["id"]
    counter = call("POST", f"{t}/counters", {"site_id": site, "name": "Desk 1"}, token=a, expect=(201,))["id"]
    customer = call("POST", f"{t}/customers", {"name": "Camille", "phone": "+33 6 12 34 56 78"},
                    token=a, expect=(201,))["id"]
    ticket = call("POST", f"{t}/queues/{queue}/tickets", {"priority": 2}, token=a, expect=(201,))["id"]
    tenant_ids = {"slug": [slug], "member": [me], "invitation": [invitation], "site": [site],
                  "service": [service], "queue": [queue], "counter": [counter], "customer": [customer],
                  "ticket": [ticket]}

ids = {
    **tenant_ids,
    "goal": [goal], "action": [action], "checkin": [checkin], "letter": [letter],
    "memory": [with_photo, without_photo], "question": [question], "share": [share["id"]],
    "api_key": [key["id"]], "share_token": [share["token"]], "perspective": [1, 2],
}
# Which path parameter of which operation takes which ids.
uses = {
    "/api/v1/checkins/{id}": {"id": "checkin"},
    "/api/v1/goals/{id}": {"id": "goal"},
    "/api/v1/goals/{id}/actions": {"id": "goal"},
    "/api/v1/goals/{id}/actions/{action_id}": {"id": "goal", "action_id": "action"},
    "/api/v1/letters/{id}": {"id": "letter"},
    "/api/v1/memories/{id}": {"id": "memory"},
    "/api/v1/memories/{id}/photo": {"id": "memory"},
    "/api/v1/couple/export/memories/{id}/photo": {"id": "memory"},
    "/api/v1/photos/{memory_id}/{size}": {"memory_id": "memory"},
    "/api/v1/public/{token}": {"token": "share_token"},
    "/api/v1/public/{token}/memories/{id}/photo": {"token": "share_token", "id": "memory"},
    "/api/v1/qna/questions/{id}": {"id": "question"},
    "/api/v1/qna/questions/{id}/answers": {"id": "question"},
    "/api/v1/couple/shares/{id}": {"id": "share"},
    "/api/v1/users/me/api-keys/{id}": {"id": "api_key"},
    "/api/v1/perspectives/{number}": {"number": "perspective"},
    "/api/v1/tenants/{slug}": {"slug": "slug"},
    "/api/v1/tenants/{slug}/members": {"slug": "slug"},
    "/api/v1/tenants/{slug}/members/{user_id}": {"slug": "slug", "user_id": "member"},
    "/api/v1/tenants/{slug}/invitations": {"slug": "slug"},
    "/api/v1/tenants/{slug}/invitations/{id}": {"slug": "slug", "id": "invitation"},
    **{f"/api/v1/tenants/{{slug}}/{kind}s": {"slug": "slug"}
       for kind in ["site", "service", "queue", "counter", "customer"]},
    **{f"/api/v1/tenants/{{slug}}/{kind}s/{{id}}": {"slug": "slug", "id": kind}
       for kind in ["site", "service", "queue", "counter", "customer"]},
    "/api/v1/tenants/{slug}/queues/{id}/join-token": {"slug": "slug", "id": "queue"},
    "/api/v1/tenants/{slug}/queues/{id}/tickets": {"slug": "slug", "id": "queue"},
    "/api/v1/tenants/{slug}/queues/{id}/call-next": {"slug": "slug", "id": "queue"},
    "/api/v1/tenants/{slug}/tickets/{id}": {"slug": "slug", "id": "ticket"},
    **{f"/api/v1/tenants/{{slug}}/tickets/{{id}}/{action}": {"slug": "slug", "id": "ticket"}
       for action in ["call", "recall", "start", "close", "pause", "resume", "no-show"]},
    "/api/v1/tenants/{slug}/agents": {"slug": "slug"},
    "/api/v1/tenants/{slug}/agents/me": {"slug": "slug"},
    "/api/v1/tenants/{slug}/agents/{user_id}": {"slug": "slug", "user_id": "member"},
}

def toml(v):
    return json.dumps(v)  # JSON strings, numbers and arrays are TOML too

out = ["# Written by scripts/schemathesis.sh for one run.", "[dictionaries]"]
out += [f"{k} = {{ values = {toml(v)} }}" for k, v in ids.items()]
for path, params in uses.items():
    if any(d not in ids for d in params.values()):
        continue
    out += ["", "[[operations]]", f"include-path = {toml(path)}",
            "parameters = { " + ", ".join(
                f"{toml('path.' + p)} = {{ dictionary = {toml(d)}, probability = 0.5 }}" for p, d in params.items()) + " }"]
# Valid by the document yet refused, and rightly so, for what no schema can say. Each group
# may also answer these statuses to schema-valid data (on top of the default list).
POSITIVE = ["2xx", "3xx", "401", "403", "404", "409", "429"]
exceptions = [
    ("A mailed-link token, a sign-in link token or an invite code that is well formed but was "
     "never issued is refused with its documented 400 code (link_invalid, invalid_link_token, "
     "invalid_code).", ["verify_email", "link_identity", "join", "accept_invitation"], ["400", "410"]),
    ("A password is also checked against a dictionary of common passwords, the account's "
     "username and address, and 72 bytes (the document says 72 characters); reset tokens as "
     "above.", ["register", "change_password"], ["422"]),
    ("Both of the above.", ["reset_password"], ["400", "422"]),
    ("An expiry must be in the future (422 in_past): a schema cannot say when now is.",
     ["create_share", "create_api_key"], ["422"]),
    ("A letter's delivery day is today to five years ahead and a check-in's date today to seven "
     "days back, in the caller's calendar (422 in_past, too_far, in_future, too_old): a schema "
     "cannot say when today is.", ["write_letter", "edit_letter", "check_in"], ["422"]),
    ("A photo part must be a JPEG, PNG or WebP image (415 unsupported_image_type): the "
     "document can say it is binary, not which bytes decode.", ["create_memory", "update_memory"], ["415"]),
    ("An id in a body must name an item of the caller's tenant (a service's site, a queue's "
     "service, an agent's counter and queues: 422 not_found), a service's range_end must not be "
     "before its range_start (422 before_range_start), a phone must exist in its country's "
     "numbering plan (422 invalid_phone) and a consent needs the phone or address its channel "
     "uses (422 requires_phone, requires_email): no schema can say which ids exist, compare two "
     "fields or hold the numbering plans.",
     ["create_service", "update_service", "create_queue", "create_counter", "create_customer",
      "update_customer", "update_my_agent", "update_agent"], ["422"]),
    ("A ticket names its customer by customer_id (one of the tenant's: 422 not_found) or by "
     "details (checked as a customer's, above), not both (422 one_of).", ["take_ticket"], ["422"]),
    ("The WebSocket endpoint answers 101 to a handshake only; an HTTP client's request, however "
     "valid its parameters, is not one (426 upgrade_required).", ["ws_connect"], ["426"]),
]
for why, ops, extra in exceptions:
    out += ["", f"# {why}", "[[operations]]", f"include-operation-id = {toml(ops)}",
            f"checks.positive_data_acceptance.expected-statuses = {toml(POSITIVE + extra)}"]
if password_too:
    out += ["", "# This user's run may delete the account: give it the password.",
            "[[operations]]", 'include-operation-id = "delete_me"',
            f'parameters = {{ "body.password" = {toml(PASSWORD)} }}']
open(config_path, "w").write("\n".join(out) + "\n")
print(a, run_key)
PY

seed() { # name, config file, whether the config gets the password (1 or 0); prints a token
  MAIL_DIR="$work/data/mail" python3 "$work/seed.py" "$base" "$1" "$2" "$3"
}

# --- runs ---------------------------------------------------------------------------------------
mkdir -p "$work/reports"
failed=""
run() { # label, config, credential header, schemathesis options...
  local label="$1" config="$2" credential="$3" started rc=0 left
  shift 3
  say "run $label"
  started=$(date +%s)
  left=$(( deadline - started ))
  [ "$left" -gt 0 ] || die "no time left for run $label (MAX_SECONDS=$MAX_SECONDS)"
  # From the temporary directory: schemathesis keeps a cache and hypothesis a database in
  # the working directory.
  (cd "$work" && timeout -k 10 "$left" "$venv/bin/schemathesis" --config-file "$config" --no-color run "$base/api/v1/openapi.json" \
    --checks all -H "$credential" --workers 1 --seed "$SEED" \
    --max-examples "$EXAMPLES" --mode all --generation-database none --request-timeout 30 \
    --report junit --report-junit-path "$work/reports/$label.xml" \
    "$@") >"$work/reports/$label.txt" 2>&1 || rc=$?
  if [ "$rc" = 0 ]; then
    say "run $label: passed in $(( $(date +%s) - started ))s ($(grep -Eo '[0-9]+ generated' "$work/reports/$label.txt" | head -1) test cases)"
  else
    cat "$work/reports/$label.txt"
    say "run $label: FAILED (exit $rc) in $(( $(date +%s) - started ))s"
    failed="$failed $label"
  fi
}

destructive=(logout logout_all leave delete_me delete_tenant)
excluded=()
for op in "${destructive[@]}"; do excluded+=(--exclude-operation-id "$op"); done

seeded="$(seed main "$work/main.toml" 0)"
read -r token key <<<"$seeded"
run main "$work/main.toml" "Authorization: Bearer $token" "${excluded[@]}" \
  --phases examples,coverage,fuzzing,stateful
# The same operations with the API key instead of the bearer token (a read_write key; the
# routes that manage credentials refuse API keys, as documented).
run api_key "$work/main.toml" "X-API-Key: $key" "${excluded[@]}" \
  --phases examples,fuzzing --max-examples "$(( (EXAMPLES + 2) / 3 ))"

for op in "${destructive[@]}"; do
  seeded="$(seed "$op" "$work/$op.toml" 1)"
  read -r token _ <<<"$seeded"
  run "$op" "$work/$op.toml" "Authorization: Bearer $token" --include-operation-id "$op" \
    --phases examples,coverage,fuzzing
done

[ -z "$failed" ] || die "failed:$failed"
say "the OpenAPI document matches the server (runs: main api_key ${destructive[*]})"
