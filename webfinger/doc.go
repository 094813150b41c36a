// Package webfinger serves and resolves RFC 7033 WebFinger, through which
// every fediverse actor is discovered from a handle such as
// @alice@example.com.
//
// Serving: the application supplies the look-up; the Handler parses the
// resource (acct:user@host with its port, or an actor IRI), answers 400
// for a missing or malformed one and 404 for an unknown one, and
// otherwise a JRD with a self link of type application/activity+json and
// a profile-page link, allowing any origin. HostMeta serves the XRD some
// peers still ask for first.
//
//	h, err := webfinger.NewHandler(webfinger.HandlerOptions{
//		Hosts:   []string{"example.com"},
//		BaseURL: "https://example.com",
//		Lookup:  func(ctx context.Context, r webfinger.Resource) (*webfinger.Account, error) { ... },
//	})
//	h.Register(mux)
//
// Resolving goes through the SSRF-safe fetch.Client, over https (http
// only to loopback hosts when the client allows loopback):
//
//	c, _ := webfinger.NewClient(fetchClient)
//	actorIRI, err := c.Resolve(ctx, "@alice@example.com")
//
// NodeInfo 2.1 lives in the sibling package nodeinfo.
package webfinger
