package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tonmesh/tonmesh/internal/fsutil"
	"github.com/tonmesh/tonmesh/vault"
	"github.com/tonmesh/tonmesh/vault/passport"
	"github.com/tonmesh/tonmesh/vault/share"
)

func newPassportShowCmd(g *globalFlags) *cobra.Command {
	var saveDir string
	cmd := &cobra.Command{
		Use:   "show TYPE",
		Short: "Fetch, decrypt and show one element (--save-files DIR writes its files)",
		Long: `show fetches an element from its holders, decrypts it and shows its fields
and files. The element is streamed from the daemon and decoded as it arrives,
so a large one (up to 430 MiB: 43 scans of 10 MiB) is never held whole.

--save-files DIR writes each file into DIR as TYPE_ROLE_NAME (passport_front_side_scan.jpg),
each first to a hidden temporary file there; only once the whole element has
arrived and decoded are they renamed into place, so a transfer cut off
midway leaves no partial file. --json prints the element as the API gives
it (its files base64-encoded), or with --save-files the element without its
bytes and where each file was written.`,
		Args: cobra.ExactArgs(1),
		RunE: passportRun(g, func(cmd *cobra.Command, v *vault.Client, _ *share.Client, args []string) (*shownElement, error) {
			t, err := parseElementType(args[0])
			if err != nil {
				return nil, err
			}
			if g.json && saveDir == "" {
				e, err := v.Element(cmd.Context(), t)
				if err != nil {
					return nil, err
				}
				return &shownElement{element: e, files: filesOf(e)}, nil
			}
			return readElement(cmd.Context(), v, t, saveDir)
		}, func(s *shownElement) { showTable(s) }),
	}
	cmd.Flags().StringVar(&saveDir, "save-files", "", "write the element's files into this directory (created if missing)")
	addJSONFlag(cmd, g)
	return cmd
}

// shownElement is what `passport show` prints: the element and, per file,
// its size and where it was saved.
type shownElement struct {
	element *passport.Element
	files   []shownFile
	saved   bool
}

type shownFile struct {
	Role string `json:"role"` // front_side, files[2] ...
	Name string `json:"name"`
	MIME string `json:"mime"`
	Size int    `json:"size"`
	Path string `json:"path,omitempty"` // with --save-files
}

// MarshalJSON prints the element as the API gives it, or with saved files
// the element (without bytes) beside the files' paths.
func (s *shownElement) MarshalJSON() ([]byte, error) {
	if !s.saved {
		return json.Marshal(s.element)
	}
	return json.Marshal(struct {
		Element *passport.Element `json:"element"`
		Saved   []shownFile       `json:"saved"`
	}{s.element, s.files})
}

// filesOf lists the files of an element held whole.
func filesOf(e *passport.Element) []shownFile {
	var out []shownFile
	add := func(role string, f *passport.File) {
		if f != nil {
			out = append(out, shownFile{Role: role, Name: f.Name, MIME: f.MIME, Size: len(f.Bytes)})
		}
	}
	add("front_side", e.FrontSide)
	add("reverse_side", e.ReverseSide)
	add("selfie", e.Selfie)
	for i := range e.Files {
		add(fmt.Sprintf("files[%d]", i), &e.Files[i])
	}
	for i := range e.Translation {
		add(fmt.Sprintf("translation[%d]", i), &e.Translation[i])
	}
	return out
}

// readElement streams element t from the daemon; with dir set it writes
// each file to a temporary file in dir, and renames them all into place
// only once the whole element has decoded.
func readElement(ctx context.Context, v *vault.Client, t passport.ElementType, dir string) (*shownElement, error) {
	s := &shownElement{saved: dir != ""}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("--save-files: %w", err)
		}
	}
	var temps []string
	defer func() {
		for _, tmp := range temps {
			os.Remove(tmp) // gone already once renamed
		}
	}()
	e, err := v.ReadElement(ctx, t, func(f *passport.StreamedFile) error {
		sf := shownFile{Role: f.Role, Name: f.Name, MIME: f.MIME, Size: f.Size}
		if dir != "" {
			tmp, err := fsutil.WriteTemp(dir, ".tonmesh-*.part", 0o600, f.Body)
			if err != nil {
				return fmt.Errorf("--save-files: %w", err)
			}
			temps = append(temps, tmp)
			sf.Path = filepath.Join(dir, savedName(t, f.Role, f.Name))
			fmt.Fprintf(os.Stderr, "received %s (%s, %d bytes)\n", f.Role, f.Name, f.Size)
		}
		s.files = append(s.files, sf)
		return nil
	})
	if err != nil {
		if dir != "" {
			err = fmt.Errorf("%w (nothing was written to %s)", err, dir)
		}
		return nil, err
	}
	for i, tmp := range temps { // with dir set, one per file
		if err := os.Rename(tmp, s.files[i].Path); err != nil {
			return nil, fmt.Errorf("--save-files: %w", err)
		}
		fmt.Fprintln(os.Stderr, "wrote", s.files[i].Path)
	}
	if dir != "" {
		if err := fsutil.SyncDir(dir); err != nil {
			return nil, fmt.Errorf("--save-files: %w", err)
		}
	}
	s.element = e
	return s, nil
}

// savedName is where --save-files puts a file: TYPE_ROLE_NAME, with a list
// entry's role counted from 1 (files_1), and only the base of the name the
// element carries.
func savedName(t passport.ElementType, role, name string) string {
	if list, idx, ok := strings.Cut(strings.TrimSuffix(role, "]"), "["); ok {
		n, _ := strconv.Atoi(idx)
		role = list + "_" + strconv.Itoa(n+1)
	}
	base := filepath.Base(name)
	if base == "." || base == ".." || base == string(filepath.Separator) {
		base = "file"
	}
	return string(t) + "_" + role + "_" + base
}

// showElement prints an element held whole (a share's, say).
func showElement(e *passport.Element) { showTable(&shownElement{element: e, files: filesOf(e)}) }

func showTable(s *shownElement) {
	e := s.element
	rows := [][]string{{"type", string(e.Type)}}
	if e.Value != "" {
		rows = append(rows, []string{"value", e.Value})
	}
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		rows = append(rows, []string{k, e.Data[k]})
	}
	for _, f := range s.files {
		line := fmt.Sprintf("%s (%s, %d bytes)", f.Name, f.MIME, f.Size)
		if f.Path != "" {
			line += " -> " + f.Path
		}
		rows = append(rows, []string{f.Role, line})
	}
	table(rows)
}
