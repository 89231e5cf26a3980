package warm

import (
	_ "github.com/cockroachdb/pebble/v2"
	_ "github.com/ipfs/go-cid"
	_ "github.com/libp2p/go-libp2p"
	_ "github.com/libp2p/go-libp2p-kad-dht"
	_ "github.com/libp2p/go-libp2p-pubsub"
	_ "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	_ "github.com/pelletier/go-toml/v2"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/spf13/cobra"
	_ "github.com/xssnick/tonutils-go/address"
	_ "github.com/xssnick/tonutils-go/ton/wallet"
	_ "golang.org/x/crypto/hkdf"
)
