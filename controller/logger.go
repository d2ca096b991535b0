package controller

import (
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LogLevels are the values of -log-level ("warning", which Flagger's help names, is warn).
var LogLevels = []string{"debug", "info", "warn", "warning", "error"}

// NewLogger returns a JSON logger writing to w whose lines read like Flagger's
// (pkg/logger): keys level, ts (ISO 8601), caller, msg, with Flagger's sampling (per
// message and second, the first 100, then every 100th). level is one of LogLevels.
func NewLogger(level string, w io.Writer) (*zap.Logger, error) {
	var l zapcore.Level
	switch level {
	case "debug", "info", "warn", "error":
		_ = l.UnmarshalText([]byte(level))
	case "warning":
		l = zapcore.WarnLevel
	default:
		return nil, fmt.Errorf("log level %q: want one of %v", level, LogLevels)
	}
	enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{
		TimeKey:        "ts",
		LevelKey:       "level",
		NameKey:        "logger",
		CallerKey:      "caller",
		MessageKey:     "msg",
		StacktraceKey:  "stacktrace",
		LineEnding:     zapcore.DefaultLineEnding,
		EncodeLevel:    zapcore.LowercaseLevelEncoder,
		EncodeTime:     zapcore.ISO8601TimeEncoder,
		EncodeDuration: zapcore.SecondsDurationEncoder,
		EncodeCaller:   zapcore.ShortCallerEncoder,
	})
	core := zapcore.NewSamplerWithOptions(zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), l), time.Second, 100, 100)
	return zap.New(core, zap.AddCaller(), zap.AddStacktrace(zapcore.PanicLevel)), nil
}
