#!/usr/bin/env bash
# Interop: the reference server against the Fedify peer, both ways, then
# two reference servers against each other, driven through their control
# APIs (the same routes and JSON on both). Prints PASS/FAIL per check and
# "N passed, N failed"; exits 1 on any failure. It starts its own
# processes on free loopback ports and kills only those, by PID; every wait
# is bounded.
#
#   FEDI_FEDIFY_PEER=/path/to/prepared/fedify bash scripts/interop.sh
#
# FEDI_FEDIFY_PEER names a copy of ../shared/peers/fedify on which
# `npm ci` has been run (.ci/run prepares one). Needs go, node, curl, jq.

set -u
cd "$(dirname "$0")/.."

WAIT_S="${WAIT_S:-20}"
WORK="$(mktemp -d)"
PIDS=()
PASS=0
FAIL=0

cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for _ in $(seq 50); do
		alive=0
		for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
	if [ "$FAIL" -gt 0 ] || [ "${KEEP_LOGS:-}" != "" ]; then
		echo "logs kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT INT TERM

pass() { PASS=$((PASS + 1)); echo "PASS: $*"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL: $*"; }

for cmd in go node curl jq; do
	command -v "$cmd" >/dev/null || { echo "interop: $cmd is needed" >&2; exit 1; }
done
if [ -z "${FEDI_FEDIFY_PEER:-}" ] || [ ! -d "$FEDI_FEDIFY_PEER/node_modules/@fedify/fedify" ]; then
	echo "interop: FEDI_FEDIFY_PEER must name a copy of shared/peers/fedify on which npm ci has run" >&2
	exit 1
fi

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
		node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# get BASE PATH / post BASE PATH JSON: the control API of a server.
get() { curl -sS --max-time 40 "$1/_control/$2"; }
post() { curl -sS --max-time 40 -H 'Content-Type: application/json' -d "$3" "$1/_control/$2"; }

# until_ok DESC CMD...: run CMD (a test that prints nothing) until it
# succeeds or WAIT_S seconds pass.
until_ok() {
	local desc="$1"
	shift
	local deadline=$((SECONDS + WAIT_S))
	while [ $SECONDS -lt $deadline ]; do
		if "$@" >/dev/null 2>&1; then
			pass "$desc"
			return 0
		fi
		sleep 0.3
	done
	fail "$desc"
	return 1
}

# has BASE PATH JQ: the control route's JSON satisfies the jq filter.
has() { get "$1" "$2" | jq -e "$3" >/dev/null; }

echo "== building the reference server"
go build -o "$WORK/fedi-server" ./examples/server || exit 1

start_peer() { # NAME PORT
	local port="$2"
	(cd "$FEDI_FEDIFY_PEER" && exec node peer.mjs --port "$port" --log-level warning) >"$WORK/$1.out" 2>"$WORK/$1.err" &
	PIDS+=($!)
	local deadline=$((SECONDS + 90))
	until grep -q '^READY ' "$WORK/$1.out" 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || { echo "the Fedify peer did not start"; cat "$WORK/$1.err"; exit 1; }
		sleep 0.3
	done
}

start_ref() { # NAME PORT EXTRA-ARGS...
	local name="$1" port="$2"
	shift 2
	"$WORK/fedi-server" -addr "127.0.0.1:$port" -origin "http://127.0.0.1:$port" -data "$WORK/$name" \
		-control -allow-loopback "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	PIDS+=($!)
	local deadline=$((SECONDS + 60))
	until curl -sf "http://127.0.0.1:$port/_control/health" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || { echo "reference server $name did not start"; cat "$WORK/$name.err"; exit 1; }
		sleep 0.2
	done
}

P_PORT=$(free_port)
A_PORT=$(free_port)
B_PORT=$(free_port)
P="http://127.0.0.1:$P_PORT"
A="http://127.0.0.1:$A_PORT"
B="http://127.0.0.1:$B_PORT"
echo "== starting the Fedify peer ($P) and reference servers A ($A) and B ($B)"
start_peer peer "$P_PORT"
start_ref a "$A_PORT" -user alice
start_ref b "$B_PORT" -user bob

P_ACTOR=$(get "$P" info | jq -r .actor)
P_HANDLE=$(get "$P" info | jq -r .handle)
A_ACTOR=$(get "$A" info | jq -r .actor)
A_HANDLE=$(get "$A" info | jq -r .handle)
B_ACTOR=$(get "$B" info | jq -r .actor)
B_HANDLE=$(get "$B" info | jq -r .handle)

# flows SERVER OTHER: the core flows between two servers, driven through
# their control APIs: X follows Y and Y follows X (by handle, WebFinger
# first), notes both ways, a like and its undo, an announce, an update, a
# delete that answers 410, and an unfollow.
flows() {
	local X="$1" Y="$2" XN="$3" YN="$4"
	local XA YA XH YH
	XA=$(get "$X" info | jq -r .actor)
	YA=$(get "$Y" info | jq -r .actor)
	XH=$(get "$X" info | jq -r .handle)
	YH=$(get "$Y" info | jq -r .handle)

	until_ok "$XN resolves $YN's handle by WebFinger" has "$X" "webfinger?resource=acct:$YH" ".jrd.links | map(select(.rel==\"self\")) | .[0].href == \"$YA\""
	until_ok "$YN fetches $XN's actor" has "$Y" "lookup?iri=$XA" ".id == \"$XA\""

	post "$Y" follow "{\"handle\":\"$XH\"}" >/dev/null
	until_ok "$YN follows $XN: $XN lists it as a follower" has "$X" followers "map(.id) | index(\"$YA\") != null"
	until_ok "$YN follows $XN: $XN's Accept reaches $YN" has "$Y" following "map(select(.actor==\"$XA\" and .state==\"accepted\")) | length == 1"
	post "$X" follow "{\"actor\":\"$YA\"}" >/dev/null
	until_ok "$XN follows $YN, matched by the Accept" has "$X" following "map(select(.actor==\"$YA\" and .state==\"accepted\")) | length == 1"

	local xnote ynote create
	create=$(post "$X" note '{"content":"<p>hello from X</p>","visibility":"public"}')
	xnote=$(echo "$create" | jq -r .note)
	until_ok "$XN's Create{Note} to followers reaches $YN" has "$Y" "received?type=Create&actor=$XA" "map(select(.object.id==\"$xnote\" or .object==\"$xnote\")) | length >= 1"
	ynote=$(post "$Y" note '{"content":"<p>hello from Y</p>","visibility":"public"}' | jq -r .note)
	until_ok "$YN's Create{Note} reaches $XN" has "$X" "received?type=Create&actor=$YA" "map(select(.object.id==\"$ynote\")) | length >= 1"

	post "$Y" like "{\"object\":\"$xnote\",\"to\":\"$XA\"}" >/dev/null
	until_ok "$YN's Like is counted on $XN's note" has "$X" notes "map(select(.id==\"$xnote\")) | .[0].likes | map(.actor) | index(\"$YA\") != null"
	post "$Y" undo-last '{}' >/dev/null
	until_ok "$YN's Undo{Like} reverts it" has "$X" notes "map(select(.id==\"$xnote\")) | .[0].likes | length == 0"
	post "$Y" announce "{\"object\":\"$xnote\",\"to\":\"$XA\"}" >/dev/null
	until_ok "$YN's Announce is counted on $XN's note" has "$X" notes "map(select(.id==\"$xnote\")) | .[0].shares | map(.actor) | index(\"$YA\") != null"

	post "$Y" update-note "{\"object\":\"$ynote\",\"content\":\"<p>edited</p>\"}" >/dev/null
	until_ok "$YN's Update reaches $XN" has "$X" "received?type=Update&actor=$YA" "length >= 1"
	post "$Y" delete "{\"object\":\"$ynote\"}" >/dev/null
	until_ok "$YN's Delete reaches $XN" has "$X" "received?type=Delete&actor=$YA" "length >= 1"
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/activity+json' "$ynote")
	[ "$code" = 410 ] && pass "$YN's deleted note answers 410" || fail "$YN's deleted note answers $code, not 410"

	post "$Y" unfollow "{\"actor\":\"$XA\"}" >/dev/null
	until_ok "$YN's Undo{Follow}: $XN drops the follower" has "$X" followers "map(.id) | index(\"$YA\") == null"
}

echo "== the reference server and the Fedify peer"
flows "$A" "$P" A Fedify
flows "$P" "$A" Fedify A

# Platform flows, when the reference server has them.
if [ -f scripts/interop-platforms.sh ]; then
	# shellcheck source=/dev/null
	. scripts/interop-platforms.sh
fi

echo "== two reference servers"
flows "$A" "$B" A B
flows "$B" "$A" B A

echo
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
