//go:build !(linux && (amd64 || arm64))

package netns

import "errors"

// InNS needs setns(2), known here on linux/amd64 and linux/arm64 only.
func InNS(h *Host, fn func() error) error {
	return errors.New("netns: entering a namespace is supported on linux/amd64 and linux/arm64 only")
}
