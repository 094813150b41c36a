# Platform flows of the interop script, sourced by scripts/interop.sh
# (which defines $A, $B, $P, get, post, until_ok, has, pass and fail, and
# the actors and handles of each server): Mobilizon-style events with the
# Fedify peer both ways, then two reference servers with a community, a
# restricted event, a project invitation and a badge.

# json_str TEXT: TEXT as a JSON string.
json_str() { jq -Rn --arg s "$1" '$s'; }

# got VAR DESC JSON FILTER: a check that the control API's answer JSON
# has a value for FILTER, kept in VAR (the answer is printed on a
# failure, for the log).
got() {
	local v
	v=$(echo "$3" | jq -r "$4" 2>/dev/null | head -1)
	if [ -z "$v" ] || [ "$v" = null ]; then
		fail "$2: $(echo "$3" | tr -d '\n' | cut -c1-300)"
		return 1
	fi
	printf -v "$1" '%s' "$v"
	pass "$2"
}

echo "== events with the Fedify peer"

# The peer's event, joined by A with a message; the peer accepts at once
# (its join policy), then A leaves.
ans=$(post "$P" event '{"name":"Fedify picnic","location":"The park"}')
if got pev "the Fedify peer hosts an event" "$ans" .event; then
	msg="I'll bring bread"
	ans=$(post "$A" join "{\"event\":\"$pev\",\"message\":$(json_str "$msg")}")
	got none "A joins the peer's event" "$ans" .id &&
		until_ok "A's Join reaches the peer with its participationMessage" has "$P" "participants?event=$pev" \
			"map(select(.actor==\"$A_ACTOR\" and .message==$(json_str "$msg"))) | length == 1"
	until_ok "the peer's Accept of A's Join: A's join is accepted" has "$A" joins \
		"map(select(.event==\"$pev\" and .state==\"accepted\")) | length == 1"
	post "$A" leave "{\"event\":\"$pev\"}" >/dev/null
	until_ok "A's Leave: the peer drops the participant" has "$P" "participants?event=$pev" \
		"map(select(.actor==\"$A_ACTOR\")) | length == 0"
	until_ok "A's Leave: the event leaves A's joins" has "$A" joins "map(select(.event==\"$pev\")) | length == 0"
fi

# A's free event: the peer's Join is accepted at once.
ans=$(post "$A" event '{"name":"Open afternoon","content":"<p>Everyone welcome</p>","location":"The hall"}')
if got fev "A hosts a free event" "$ans" .event; then
	post "$P" join "{\"event\":\"$fev\"}" >/dev/null
	until_ok "the peer joins A's free event: accepted at once" has "$P" joins \
		"map(select(.event==\"$fev\" and .state==\"accepted\")) | length == 1"
	until_ok "A lists the peer as a participant" has "$A" "participants?event=$fev" \
		"map(select(.actor==\"$P_ACTOR\" and .state==\"accepted\")) | length == 1"
fi

# A's restricted event: the peer's Join with a message waits for A, who
# accepts it; then the peer leaves.
ans=$(post "$A" event '{"name":"Supper club","joinMode":"restricted","maximumAttendeeCapacity":12,"repliesModerationOption":"moderated"}')
if got rev "A hosts a restricted event" "$ans" .event; then
	msg="May I come? I cook vegetarian."
	post "$P" join "{\"event\":\"$rev\",\"message\":$(json_str "$msg")}" >/dev/null
	until_ok "the peer's Join waits on A, with its message" has "$A" pending \
		".joins | map(select(.actor==\"$P_ACTOR\" and .event==\"$rev\" and .message==$(json_str "$msg"))) | length == 1"
	jid=$(get "$A" pending | jq -r ".joins[] | select(.actor==\"$P_ACTOR\" and .event==\"$rev\") | .id" | head -1)
	ans=$(post "$A" accept "{\"activity\":\"$jid\"}")
	got none "A accepts the peer's Join by hand" "$ans" 'select(.type=="Accept") | .id'
	until_ok "A's Accept reaches the peer: its join is accepted" has "$P" joins \
		"map(select(.event==\"$rev\" and .state==\"accepted\")) | length == 1"
	until_ok "A lists the peer as a participant, with its message" has "$A" "participants?event=$rev" \
		"map(select(.actor==\"$P_ACTOR\" and .state==\"accepted\" and .message==$(json_str "$msg"))) | length == 1"
	post "$P" leave "{\"event\":\"$rev\"}" >/dev/null
	until_ok "the peer's Leave: A drops the participant" has "$A" "participants?event=$rev" \
		"map(select(.actor==\"$P_ACTOR\")) | length == 0"
fi

echo "== platforms between two reference servers"

# A community on A: B's bob follows it and posts in it, the community
# announces the post, votes are counted, and alice (its moderator)
# removes the post.
ans=$(post "$A" group '{"name":"gardening","title":"Gardening","summary":"<p>Beds, seeds and frost</p>"}')
if got G "A creates a community" "$ans" .actor; then
	GH=$(echo "$ans" | jq -r .handle)
	post "$B" follow "{\"handle\":\"$GH\"}" >/dev/null
	until_ok "B follows A's community: accepted" has "$B" following \
		"map(select(.actor==\"$G\" and .state==\"accepted\")) | length == 1"
	ans=$(post "$B" post "{\"group\":\"$GH\",\"name\":\"First frost tonight\",\"content\":\"<p>Cover the beds.</p>\"}")
	if got page "B posts in A's community" "$ans" .page; then
		until_ok "B's Create{Page} reaches the community on A" has "$A" "posts?group=$G" \
			"map(select(.id==\"$page\" and .hidden==false)) | length == 1"
		until_ok "the community announces B's post to its followers" has "$B" "received?type=Announce&actor=$G" \
			"map(select(.activity | tostring | contains(\"$page\"))) | length >= 1"
		post "$B" vote "{\"object\":\"$page\",\"dir\":\"up\"}" >/dev/null
		until_ok "B's upvote is counted on A" has "$A" "votes?object=$page" ".up == 1"
		post "$A" vote "{\"object\":\"$page\",\"dir\":\"down\"}" >/dev/null
		until_ok "A's downvote is counted beside it" has "$A" "votes?object=$page" ".up == 1 and .down == 1"
		until_ok "the community announces the votes: B counts them too" has "$B" "votes?object=$page" ".up == 1 and .down == 1"
		ans=$(post "$A" remove "{\"object\":\"$page\",\"reason\":\"off topic\"}")
		got none "A's moderator removes the post" "$ans" .activity
		until_ok "the removed post is hidden on A" has "$A" "votes?object=$page" ".hidden == true"
		until_ok "the community announces the Remove to B" has "$B" "received?type=Announce&actor=$G" \
			"map(select(.activity | tostring | contains(\"Remove\"))) | length >= 1"
		until_ok "the removed post is hidden on B" has "$B" "votes?object=$page" ".hidden == true"
	fi
fi

# A restricted event on A, joined by B with a message and approved by
# hand.
ans=$(post "$A" event '{"name":"Seed swap","joinMode":"restricted","location":"Greenhouse"}')
if got sev "A hosts a restricted event for B" "$ans" .event; then
	msg="I have tomato seeds to swap"
	post "$B" join "{\"event\":\"$sev\",\"message\":$(json_str "$msg")}" >/dev/null
	until_ok "B's Join waits on A, with its message" has "$A" pending \
		".joins | map(select(.actor==\"$B_ACTOR\" and .event==\"$sev\" and .message==$(json_str "$msg"))) | length == 1"
	until_ok "B's join is pending on B" has "$B" joins "map(select(.event==\"$sev\" and .state==\"pending\")) | length == 1"
	jid=$(get "$A" pending | jq -r ".joins[] | select(.actor==\"$B_ACTOR\" and .event==\"$sev\") | .id" | head -1)
	post "$A" accept "{\"activity\":\"$jid\"}" >/dev/null
	until_ok "A's Accept reaches B: its join is accepted" has "$B" joins \
		"map(select(.event==\"$sev\" and .state==\"accepted\" and .message==$(json_str "$msg"))) | length == 1"
	until_ok "A lists B as a participant, with its message" has "$A" "participants?event=$sev" \
		"map(select(.actor==\"$B_ACTOR\" and .state==\"accepted\" and .message==$(json_str "$msg"))) | length == 1"
fi

# A project on A: B is invited with a role and accepts.
ans=$(post "$A" project '{"name":"Community garden","kind":"Project","description":"Vegetables for all"}')
if got proj "A creates a project" "$ans" .object; then
	ans=$(post "$A" invite "{\"object\":\"$proj\",\"to\":\"$B_HANDLE\",\"role\":\"contributor\"}")
	if got inv "A invites B to the project as a contributor" "$ans" .activity; then
		until_ok "B receives the invitation, with its role" has "$B" pending \
			".invitations | map(select(.id==\"$inv\" and .object==\"$proj\" and .role==\"contributor\")) | length == 1"
		post "$B" accept "{\"activity\":\"$inv\"}" >/dev/null
		until_ok "B's Accept makes it a contributor on A" has "$A" "members?object=$proj" \
			"map(select(.actor==\"$B_ACTOR\" and .state==\"accepted\" and .role==\"contributor\")) | length == 1"
		until_ok "the invitation no longer waits on B" has "$B" pending ".invitations | map(select(.id==\"$inv\")) | length == 0"
	fi
fi

# A badge of A's, assigned to B, who accepts it.
ans=$(post "$A" badge '{"name":"Green thumb","description":"Kept the garden alive all winter"}')
if got badge "A creates a badge" "$ans" .badge; then
	ans=$(post "$A" assign "{\"badge\":\"$badge\",\"to\":\"$B_HANDLE\",\"narrative\":\"for the tomatoes\"}")
	if got asg "A assigns the badge to B" "$ans" .activity; then
		until_ok "B is a pending holder on A" has "$A" "holders?badge=$badge" \
			"map(select(.actor==\"$B_ACTOR\" and .state==\"pending\")) | length == 1"
		until_ok "the assignment waits on B" has "$B" pending ".badges | map(select(.id==\"$asg\")) | length == 1"
		post "$B" accept "{\"activity\":\"$asg\"}" >/dev/null
		until_ok "B's Accept: it holds the badge on A" has "$A" "holders?badge=$badge" \
			"map(select(.actor==\"$B_ACTOR\" and .state==\"accepted\")) | length == 1"
	fi
fi
