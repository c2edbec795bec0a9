#!/usr/bin/env bash
# gitseal demo: keyless signing against the local Sigstore sandbox, end to end.
#
#   1. start the sandbox (OIDC provider, Fulcio, Rekor on 127.0.0.1) in a temp dir
#   2. make a throwaway repository that signs with gitseal (gpg.format x509)
#   3. say who may sign (gitseal init --signer), so git shows G, not U, for that signer
#   4. sign a commit and a tag with an ID token from the sandbox provider
#   5. verify them with git verify-commit, git verify-tag and git log --show-signature;
#      check that git sees a policy-verified G
#   6. stop the sandbox and clean up
#
# Usage: npm run demo   (builds first), or: bash scripts/demo.sh   (needs dist/ built)
# Set KEEP=1 to keep the temporary directory for a look around afterwards.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GITSEAL="$ROOT/bin/gitseal"
SANDBOX="$ROOT/packages/sandbox/bin/gitseal-sandbox"
EMAIL="demo@example.test"

if [[ ! -f "$ROOT/dist/main.js" || ! -f "$ROOT/packages/sandbox/dist/main.js" ]]; then
  echo "demo: dist/ is not built; run: npm run build" >&2
  exit 1
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gitseal-demo.XXXXXX")"
chmod 700 "$WORK"
SB="$WORK/sandbox"
REPO="$WORK/repo"
SANDBOX_PID=""

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

cleanup() {
  local status=$?
  # gitseal may have started a signing agent for this demo (one certificate, many signatures).
  if [[ -n "${GITSEAL_AGENT_SOCK:-}" ]]; then "$GITSEAL" agent stop >/dev/null 2>&1 || true; fi
  if [[ -n "$SANDBOX_PID" ]] && kill -0 "$SANDBOX_PID" 2>/dev/null; then
    "$SANDBOX" stop --dir "$SB" >/dev/null 2>&1 || kill "$SANDBOX_PID" 2>/dev/null || true
    wait "$SANDBOX_PID" 2>/dev/null || true
  fi
  if [[ "${KEEP:-0}" == 1 ]]; then
    echo "demo: kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT INT TERM

step "Starting the sandbox in $SB"
mkdir -m 700 "$SB"
"$SANDBOX" start --dir "$SB" >"$WORK/sandbox.out" 2>"$WORK/sandbox.err" &
SANDBOX_PID=$!
for _ in $(seq 1 300); do
  grep -q '^gitseal-sandbox ready' "$WORK/sandbox.out" 2>/dev/null && break
  if ! kill -0 "$SANDBOX_PID" 2>/dev/null; then
    echo "demo: the sandbox did not start:" >&2
    cat "$WORK/sandbox.err" >&2
    exit 1
  fi
  sleep 0.1
done
grep '^gitseal-sandbox ready' "$WORK/sandbox.out" || { echo "demo: the sandbox did not become ready" >&2; exit 1; }

# Point gitseal at the sandbox (Fulcio, Rekor, issuer, trusted root) …
# shellcheck disable=SC1091
. "$SB/env"
# … and keep this demo away from the user's own git configuration, token cache and signing agent.
export HOME="$WORK/home" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export XDG_CACHE_HOME="$HOME/.cache" XDG_CONFIG_HOME="$HOME/.config" XDG_DATA_HOME="$HOME/.local/share" XDG_STATE_HOME="$HOME/.local/state"
export GITSEAL_AGENT_SOCK="$WORK/agent.sock"
unset XDG_RUNTIME_DIR
mkdir -m 700 "$HOME"
sed 's/^/    /' "$SB/env" | grep export

step "Getting an ID token for $EMAIL from the sandbox OpenID provider"
SIGSTORE_ID_TOKEN="$("$SANDBOX" token --dir "$SB" --email "$EMAIL")"
export SIGSTORE_ID_TOKEN
echo "    token: ${SIGSTORE_ID_TOKEN:0:24}… (${#SIGSTORE_ID_TOKEN} characters, not shown)"

step "Creating a repository that signs with gitseal"
git init -q "$REPO"
cd "$REPO"
git config user.name "Demo User"
git config user.email "$EMAIL"
git config gpg.format x509
git config gpg.x509.program "$GITSEAL"
git config commit.gpgsign true
git config tag.gpgsign true
git config --list --local | grep -E '^(gpg|commit|tag|user)\.' | sed 's/^/    /'

step "Saying who may sign here (without a policy git shows every good signature as U)"
"$GITSEAL" init --signer "$EMAIL" --issuer "$GITSEAL_OIDC_ISSUER" | sed 's/^/    /'

step "Signing a commit"
echo "hello from gitseal" >README
git add README
git commit -q -m "A signed commit"
git cat-file commit HEAD | sed -n '/^gpgsig/,/END SIGNED MESSAGE/p' | head -4 | sed 's/^/    /'
echo "    …"

step "Signing a tag"
git tag -s -m "A signed tag" v1.0

step "git verify-commit HEAD"
git verify-commit HEAD

step "git verify-tag v1.0"
git verify-tag v1.0

step "git log --show-signature -1"
git log --show-signature -1

step "What git concludes: %G? is G (good, and the signer is allowed by the policy)"
git log --format='    %G? %GS  %s' -1
verdict="$(git log -1 --format=%G?)"
if [[ "$verdict" != G ]]; then
  echo "demo: git reports $verdict for the signed commit, expected G" >&2
  exit 1
fi

step "What the sandbox saw"
"$SANDBOX" stats --dir "$SB" | node -e '
  const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
  console.log(`    Fulcio certificates issued: ${s.fulcio?.signingCert ?? "?"}`);
  console.log(`    Rekor log entries:          ${s.rekor?.treeSize ?? "?"}`);'

step "Stopping the sandbox"
"$SANDBOX" stop --dir "$SB"
wait "$SANDBOX_PID" 2>/dev/null || true
SANDBOX_PID=""

printf '\n\033[1mdemo: a commit and a tag were signed keylessly and verified, and git trusts the signer (G).\033[0m\n'
