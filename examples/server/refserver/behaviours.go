package refserver

// registerBehaviours registers the platforms' behaviours on the
// federation, and their control routes and HTML sections.
func registerBehaviours(s *Server) {
	for _, r := range platforms {
		r(s)
	}
}

// platforms are the platform registrations, one per platform file.
var platforms []func(s *Server)
