package scenario

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// maxFileSize bounds what the loader reads from one file.
const maxFileSize = 8 << 20

// OpenRegular opens path for reading when it is a regular file (or a link to one),
// and refuses anything else without blocking: a named pipe would wait for a writer, a
// device or a socket is no file of aviary's. It is the one rule for every file aviary
// reads: scenarios, policies, files to convert, run records to report on. The error
// names the path and what it is: "x.yaml: a named pipe, not a regular file".
func OpenRegular(path string) (*os.File, error) {
	// Stat first, so that nothing but a regular file is ever opened (opening a
	// device can have effects); then open without blocking and look again at what
	// was opened, in case the path changed in between.
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := regular(path, info); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if info, err = f.Stat(); err == nil {
		err = regular(path, info)
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// NotRegularError is OpenRegular's error for a path that is not a regular file.
type NotRegularError struct {
	Path string
	// Type says what it is instead: "a named pipe", "a socket", "a directory", ...
	Type string
}

func (e *NotRegularError) Error() string { return e.Path + ": " + e.Type + ", not a regular file" }

// regular says what path is when it is not a regular file.
func regular(path string, info fs.FileInfo) error {
	if info.Mode().IsRegular() {
		return nil
	}
	return &NotRegularError{Path: path, Type: fileType(info.Mode())}
}

// withoutPath is what a file error says about the file, for a message that names
// the file already: "a named pipe, not a regular file", "no such file or directory".
func withoutPath(err error) string {
	var nr *NotRegularError
	var pe *fs.PathError
	switch {
	case errors.As(err, &nr):
		return nr.Type + ", not a regular file"
	case errors.As(err, &pe):
		return pe.Err.Error()
	}
	return err.Error()
}

// fileType names the type of a file that is not a regular one.
func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "an irregular file"
}

// ReadFile reads a regular file (OpenRegular) of at most 8 MiB: a scenario, a policy
// file, a file to convert.
func ReadFile(path string) ([]byte, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("larger than %d MiB", maxFileSize>>20)}
	}
	return data, nil
}
