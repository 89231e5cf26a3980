package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/tonmesh/tonmesh/node"
)

// resolveHome is --home, else $TONMESH_HOME, else ~/.tonmesh.
func (g *globalFlags) resolveHome() (node.Home, error) {
	if g.home != "" {
		return node.Home(g.home), nil
	}
	return node.DefaultHome()
}

// client finds the running daemon: --api/--token first, else the home's files.
func (g *globalFlags) client() (*node.Client, error) {
	if g.api != "" {
		token := g.token
		if token == "" {
			h, err := g.resolveHome()
			if err != nil {
				return nil, err
			}
			if token, err = h.Token(); err != nil {
				return nil, fmt.Errorf("--api given without --token, and %w", err)
			}
		}
		return node.NewClient(g.api, token), nil
	}
	h, err := g.resolveHome()
	if err != nil {
		return nil, err
	}
	c, err := node.ClientForHome(h)
	if err != nil {
		return nil, err
	}
	if g.token != "" {
		url, _ := h.APIURL()
		c = node.NewClient(url, g.token)
	}
	return c, nil
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table prints rows aligned in columns.
func table(rows [][]string) {
	widths := map[int]int{}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			fmt.Fprintf(&b, "%-*s  ", widths[i], c)
		}
		fmt.Println(b.String())
	}
}
