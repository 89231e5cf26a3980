package llama2c

import (
	"os"
	"path/filepath"
)

// Files of the stories260K model, the one DefaultPaths looks for.
const (
	DefaultCheckpoint = "stories260K.bin"
	DefaultTokenizer  = "tok512.bin"
	// ModelDirEnv names a folder holding DefaultCheckpoint and DefaultTokenizer.
	ModelDirEnv = "TONMESH_MODEL_DIR"
	// sharedModelDir is where the project's shared models live on this
	// kind of machine.
	sharedModelDir = "/work/shared/models/stories260K"
)

// DefaultPaths finds stories260K: in $TONMESH_MODEL_DIR, then in
// ../shared/models/stories260K relative to the working directory and up to
// four of its parents, then in /work/shared/models/stories260K. ok is false
// when no folder holds both files.
func DefaultPaths() (checkpoint, tokenizer string, ok bool) {
	for _, dir := range modelDirs() {
		ck, tok := filepath.Join(dir, DefaultCheckpoint), filepath.Join(dir, DefaultTokenizer)
		if isFile(ck) && isFile(tok) {
			return ck, tok, true
		}
	}
	return "", "", false
}

// modelDirs lists the folders DefaultPaths tries, in order.
func modelDirs() []string {
	var dirs []string
	if d := os.Getenv(ModelDirEnv); d != "" {
		dirs = append(dirs, d)
	}
	if wd, err := os.Getwd(); err == nil {
		for range 5 {
			dirs = append(dirs, filepath.Join(wd, "..", "shared", "models", "stories260K"))
			parent := filepath.Dir(wd)
			if parent == wd {
				break
			}
			wd = parent
		}
	}
	return append(dirs, sharedModelDir)
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
