package refserver

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/fedi-go/fedi/actor"
)

// Config is the reference server's configuration; its flags set it.
type Config struct {
	// Addr is the address to listen on.
	Addr string
	// Origin is the scheme and host every local IRI starts with.
	Origin string
	// DataDir holds the SQLite database (fedi.db), unless Postgres is set.
	DataDir string
	// Postgres is a PostgreSQL DSN: several server processes then share
	// one database and one delivery queue.
	Postgres string
	// Users are the local Person actors created on start when missing;
	// New creates alice when there are none.
	Users []string
	// AllowLoopback lets the safe HTTP client reach loopback peers.
	AllowLoopback bool
	// Control serves the control API at /_control, to loopback clients.
	Control bool
	// Workers is the number of deliveries attempted at once.
	Workers int
	// LogFormat is "text" or "json".
	LogFormat string
	// LogLevel is "debug", "info", "warn" or "error".
	LogLevel string
}

// users is a repeatable -user flag.
type users []string

func (u *users) String() string { return strings.Join(*u, ",") }

func (u *users) Set(v string) error {
	if err := actor.CheckName(v); err != nil {
		return errors.New("not a valid user name: letters, digits, '_', '-' and '.'")
	}
	*u = append(*u, v)
	return nil
}

// ParseFlags parses the command line into a Config. Usage and errors go
// to out; an error is one line, for the caller to print and exit 1 with
// (flag.ErrHelp for -h).
func ParseFlags(name string, args []string, out io.Writer) (Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// Parse errors are returned as one line; the usage goes out for -h
	// only.
	fs.SetOutput(io.Discard)
	var c Config
	var us users
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.Origin, "origin", "", "scheme and host of every local IRI (default http://localhost:PORT, the port of -addr)")
	fs.StringVar(&c.DataDir, "data", "data", "directory of the SQLite database (fedi.db)")
	fs.StringVar(&c.Postgres, "postgres", "", "PostgreSQL DSN instead of SQLite: several server processes then share one database and one delivery queue")
	fs.Var(&us, "user", "local Person actor to create on start if missing (repeatable; default alice)")
	fs.BoolVar(&c.AllowLoopback, "allow-loopback", false, "let the HTTP client reach loopback peers (127.0.0.1, ::1, localhost) over http")
	fs.BoolVar(&c.Control, "control", false, "serve the JSON control API at /_control, to loopback clients only")
	fs.IntVar(&c.Workers, "workers", 8, "deliveries attempted at once")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s [flags]\n\nThe fedi reference server: a federating ActivityPub server with the Mobilizon,\nLemmy, Communecter and Gathio behaviours, on SQLite by default.\n\nFlags:\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			fs.Usage()
		}
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	c.Users = us
	if len(c.Users) == 0 {
		c.Users = []string{"alice"}
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || port == "" {
		return c, fmt.Errorf("-addr %q: want host:port, such as 127.0.0.1:8080", c.Addr)
	}
	_ = host
	if c.Origin == "" {
		c.Origin = "http://localhost:" + port
	}
	if u, err := url.Parse(c.Origin); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return c, fmt.Errorf("-origin %q: want a scheme and a host, such as http://localhost:8080", c.Origin)
	}
	c.Origin = strings.TrimSuffix(c.Origin, "/")
	if c.Workers < 1 || c.Workers > 1024 {
		return c, fmt.Errorf("-workers %d: want 1 to 1024", c.Workers)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return c, fmt.Errorf("-log-format %q: want text or json", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return c, fmt.Errorf("-log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	if c.Postgres == "" && c.DataDir == "" {
		return c, errors.New("-data: want a directory")
	}
	return c, nil
}
