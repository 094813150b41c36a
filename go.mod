module github.com/fedi-go/fedi

go 1.26

require (
	git.sr.ht/~mariusor/go-xsd-duration v0.0.0-20220703122237-02e73435a078 // indirect
	github.com/cayleygraph/quad v1.3.0 // indirect
	github.com/go-ap/activitypub v0.0.0-20250810115208-cb73b20a1742 // indirect
	github.com/go-ap/errors v0.0.0-20250527110557-c8db454e53fd // indirect
	github.com/go-ap/jsonld v0.0.0-20260607140920-737b40e0ca38 // indirect
	github.com/piprate/json-gold v0.9.1 // indirect
	github.com/pquerna/cachecontrol v0.2.0 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/valyala/fastjson v1.6.4 // indirect
)
