// Command ferretdb runs an embedded FerretDB v1 (MongoDB wire protocol) server
// with the SQLite backend for the assetflow local dev stack.
//
// It exists because `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`
// panics at start-up (build/version/version.txt is not part of the module zip);
// the embeddable package github.com/FerretDB/FerretDB/ferretdb does not need it.
//
// Build:
//
//	cd deploy/local/ferretdb && CGO_ENABLED=0 go build -trimpath -o /work/main/.local/bin/ferretdb .
//
// Run:
//
//	ferretdb -listen-addr 127.0.0.1:27017 -sqlite-dir /abs/path/to/data -log-level info
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP listen address (host:port)")
	sqliteDir := flag.String("sqlite-dir", "", "directory for SQLite database files (absolute path; created if missing)")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn, error")
	flag.Parse()

	if err := run(*listenAddr, *sqliteDir, *logLevel); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}

func run(listenAddr, sqliteDir, logLevel string) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("invalid -log-level %q: %w", logLevel, err)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	if sqliteDir == "" {
		return fmt.Errorf("-sqlite-dir is required")
	}

	dir, err := filepath.Abs(sqliteDir)
	if err != nil {
		return fmt.Errorf("invalid -sqlite-dir: %w", err)
	}

	if err = os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create -sqlite-dir: %w", err)
	}

	// FerretDB expects a SQLite URI pointing to a directory, ending with "/".
	u := &url.URL{Scheme: "file", Opaque: strings.TrimSuffix(filepath.ToSlash(dir), "/") + "/"}

	// Telemetry: the embeddable package never starts the telemetry reporter and
	// explicitly sets the telemetry state to disabled+locked in ferretdb.New.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listenAddr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: u.String(),
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger.Info("starting FerretDB", "listen", listenAddr, "sqlite", u.String())

	if err = f.Run(ctx); err != nil {
		return err
	}

	logger.Info("FerretDB stopped")

	return nil
}
