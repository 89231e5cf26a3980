package p2p

import (
	"net"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Peer scoring. One invalid message costs a sender invalidMessageWeight
// points, and the penalty grows with the square of the count, so a handful of
// invalid messages take a peer below the gossip, publish and graylist
// thresholds. Good behaviour (time in mesh, first deliveries) earns at most
// topicScoreCap points, never enough to hide repeated invalid messages.
const (
	invalidMessageWeight = -100.0
	topicScoreCap        = 50.0

	gossipThreshold   = -500.0
	publishThreshold  = -1000.0
	graylistThreshold = -2500.0

	// scoreInspectPeriod is how often PeerScore's snapshot is refreshed.
	scoreInspectPeriod = time.Second
)

// loopbackNets are exempt from the IP-colocation penalty, so a test or a
// local testnet with many peers on one host is not penalised.
func loopbackNets() []*net.IPNet {
	return []*net.IPNet{
		{IP: net.IPv4(127, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)},
		{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
	}
}

func peerScoreParams() *pubsub.PeerScoreParams {
	return &pubsub.PeerScoreParams{
		Topics:                      make(map[string]*pubsub.TopicScoreParams),
		TopicScoreCap:               topicScoreCap,
		AppSpecificScore:            func(peer.ID) float64 { return 0 },
		AppSpecificWeight:           1,
		IPColocationFactorWeight:    -10,
		IPColocationFactorThreshold: 8,
		IPColocationFactorWhitelist: loopbackNets(),
		BehaviourPenaltyWeight:      -10,
		BehaviourPenaltyThreshold:   6,
		BehaviourPenaltyDecay:       pubsub.ScoreParameterDecay(10 * time.Minute),
		DecayInterval:               pubsub.DefaultDecayInterval,
		DecayToZero:                 pubsub.DefaultDecayToZero,
		RetainScore:                 30 * time.Minute,
		SeenMsgTTL:                  seenMessagesTTL,
	}
}

func peerScoreThresholds() *pubsub.PeerScoreThresholds {
	return &pubsub.PeerScoreThresholds{
		GossipThreshold:             gossipThreshold,
		PublishThreshold:            publishThreshold,
		GraylistThreshold:           graylistThreshold,
		AcceptPXThreshold:           topicScoreCap * 2, // unreachable: peer exchange stays off
		OpportunisticGraftThreshold: 1,
	}
}

// topicScoreParams penalises invalid messages and rewards time in the mesh
// and first deliveries. Mesh-delivery-rate penalties (P3) are off: tonmesh
// topics are bursty and quiet topics must not punish honest peers.
func topicScoreParams() *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		TopicWeight:                    1,
		TimeInMeshWeight:               0.01,
		TimeInMeshQuantum:              time.Second,
		TimeInMeshCap:                  1000, // 10 points after ~17 min
		FirstMessageDeliveriesWeight:   1,
		FirstMessageDeliveriesDecay:    pubsub.ScoreParameterDecay(time.Hour),
		FirstMessageDeliveriesCap:      40,
		InvalidMessageDeliveriesWeight: invalidMessageWeight,
		InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(time.Hour),
	}
}
