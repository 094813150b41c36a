package refserver

import (
	"context"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/behaviour/core"
)

// acceptPending decides a pending Follow of u by follower.
func acceptPending(ctx context.Context, c *control, u *actor.Actor, follower string, accept bool) (string, error) {
	f := c.s.fed
	return core.AcceptPending(ctx, f.Store, f.Scheme, f.Send, f.Registry, u.IRI, follower, accept)
}
