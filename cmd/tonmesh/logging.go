package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	golog "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/gologshim"

	"github.com/tonmesh/tonmesh/config"
)

// setupLogging builds the process's one slog handler from the config and
// routes libp2p's loggers (slog via gologshim, zap via go-log) into the same
// output. libp2p is held at warn unless the node logs at debug, because its
// info level is chatty about routine peer churn.
func setupLogging(w io.Writer, c config.LogConfig) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		return nil, fmt.Errorf("config: key \"log.level\": %q is not a level (use debug, info, warn or error)", c.Level)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if strings.EqualFold(c.Format, "json") {
		h = slog.NewJSONHandler(w, opts)
	}
	libLevel := max(level, slog.LevelWarn)
	gologshim.SetDefaultHandler(levelFilter{Handler: h.WithAttrs([]slog.Attr{slog.String("lib", "libp2p")}), min: libLevel})
	zapLevel := golog.LevelError
	if level <= slog.LevelDebug {
		zapLevel = golog.LevelDebug
	}
	golog.SetAllLoggers(zapLevel)
	return slog.New(h), nil
}

// levelFilter drops records below min.
type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

func (f levelFilter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return levelFilter{Handler: f.Handler.WithAttrs(attrs), min: f.min}
}

func (f levelFilter) WithGroup(name string) slog.Handler {
	return levelFilter{Handler: f.Handler.WithGroup(name), min: f.min}
}
