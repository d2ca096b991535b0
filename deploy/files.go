package deploy

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Stale lists what differs between the generated files (by path relative to dir)
// and the .yaml files under dir: "path: stale", "path: missing", "path: not
// generated". Empty means dir is current.
func Stale(dir string, files map[string][]byte) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return nil
		}
		if err != nil || d.IsDir() || filepath.Ext(p) != ".yaml" {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		seen[rel] = true
		want, ok := files[rel]
		if !ok {
			out = append(out, rel+": not generated")
			return nil
		}
		got, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			out = append(out, rel+": stale")
		}
		return nil
	})
	for rel := range files {
		if !seen[rel] {
			out = append(out, rel+": missing")
		}
	}
	sort.Strings(out)
	return out, err
}

// Write writes the generated files under dir and removes the .yaml files under it
// that are not generated.
func Write(dir string, files map[string][]byte) error {
	stale, err := Stale(dir, files)
	if err != nil {
		return err
	}
	for _, s := range stale {
		rel := s[:bytes.LastIndexByte([]byte(s), ':')]
		p := filepath.Join(dir, filepath.FromSlash(rel))
		data, ok := files[rel]
		if !ok {
			if err := os.Remove(p); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
