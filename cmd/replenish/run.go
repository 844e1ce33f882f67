package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=..."; the
// module's build information is the fallback.
var version = ""

const usage = `replenish: smart replenishment for connected devices.

Usage:
  replenish <command> [flags]

Commands:
  serve     run the service (JSON API, event gateway, token endpoint)
  demo      run the service with a simulated vendor and two customers, and
            show low supplies and orders as they happen
  simulate  run a simulated vendor cloud against a running service
  bench     measure how many events per second the gateway takes;
            "bench crash" and "bench soak" check crash safety and a long run
  evaluate  compare reorder policies on a year of simulated households
  user      add a user who signs in to the web pages (console or customer)
  link      print a link to a customer page, for a vendor's app or site
  migrate   bring a database's schema up to date and report it
  backup    write a consistent copy of a live SQLite database
  version   print the version

Run "replenish <command> --help" for a command's flags. Every flag can also
be set in the environment as REPLENISH_<FLAG>, e.g. REPLENISH_DB for --db,
or read from a file named by REPLENISH_<FLAG>_FILE (for secrets).
`

// run is the whole program: main only calls it, so that tests can too.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	err := dispatch(ctx, args[1], args[2:], getenv, stdout, stderr)
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, cmd string, rest []string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch cmd {
	case "serve":
		return serveCommand(ctx, rest, getenv, stdout, stderr)
	case "demo":
		return demoCommand(ctx, rest, getenv, stdout, stderr)
	case "simulate":
		return simulateCommand(ctx, rest, getenv, stdout, stderr)
	case "bench":
		return benchCommand(ctx, rest, getenv, stdout, stderr)
	case "evaluate":
		return evaluateCommand(ctx, rest, getenv, stdout, stderr)
	case "user":
		return userCommand(ctx, rest, getenv, os.Stdin, stdout, stderr)
	case "migrate":
		return migrateCommand(ctx, rest, getenv, stdout, stderr)
	case "backup":
		return backupCommand(ctx, rest, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "replenish", versionString())
		return nil
	case "link":
		return linkCommand(rest, getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
}

// newFlags returns a flag set whose --help prints about, then the flags.
func newFlags(name, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: replenish %s [flags]\n\n%s\nFlags (each also REPLENISH_<FLAG> in the environment, or REPLENISH_<FLAG>_FILE naming a file):\n", name, about)
		fs.VisitAll(func(f *flag.Flag) {
			kind, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(stderr, "  --%s %s\n    \t%s", f.Name, kind, usage)
			if f.DefValue != "" && f.DefValue != "0" {
				fmt.Fprintf(stderr, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(stderr)
		})
	}
	return fs
}

// parse parses args, with REPLENISH_<NAME> from the environment as each
// flag's default; --help is not an error.
func parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "REPLENISH_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := getenv(name)
		if path := getenv(name + "_FILE"); v == "" && path != "" {
			// A secret mounted as a file, as container platforms do.
			raw, err := os.ReadFile(path)
			if err != nil && envErr == nil {
				envErr = fmt.Errorf("%s_FILE: %w", name, err)
			}
			v = strings.TrimRight(string(raw), "\r\n")
			name += "_FILE"
		}
		if v != "" {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s: %w", name, err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return errHelp
	}
	if err == nil && fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; flags start with --", fs.Arg(0))
	}
	return err
}

// errHelp ends a command after its help was printed.
var errHelp = errors.New("help shown")
