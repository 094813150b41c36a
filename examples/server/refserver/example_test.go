package refserver_test

import (
	"fmt"
	"io"

	"github.com/fedi-go/fedi/examples/server/refserver"
)

// The zero configuration: SQLite in ./data, localhost:8080, alice.
func ExampleParseFlags() {
	cfg, err := refserver.ParseFlags("server", nil, io.Discard)
	if err != nil {
		panic(err)
	}
	fmt.Println(cfg.Addr, cfg.Origin, cfg.DataDir, cfg.Users)
	cfg, _ = refserver.ParseFlags("server", []string{"-addr", "127.0.0.1:9000", "-user", "ann", "-user", "ben", "-control"}, io.Discard)
	fmt.Println(cfg.Origin, cfg.Users, cfg.Control)
	// Output:
	// 127.0.0.1:8080 http://localhost:8080 data [alice]
	// http://localhost:9000 [ann ben] true
}
