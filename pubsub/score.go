package pubsub

import (
	"time"

	lpubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Score thresholds. Each rejected message adds one to a peer's invalid
// delivery counter on the topic, and the penalty is the counter squared
// times invalidWeight: one reject (-10) pushes a peer out of the mesh at
// the next heartbeat (any negative score does), two (-40) stop gossip to
// it, three (-90) graylist it, after which its RPCs are dropped unread.
// Positive scores are capped at topicScoreCap so good behaviour cannot be
// banked against later invalid messages for long.
const (
	gossipThreshold    = -10
	publishThreshold   = -50
	graylistThreshold  = -80
	acceptPXThreshold  = 10 // PX is off; required to be positive
	opportunisticGraft = 1

	invalidWeight = -10
	topicScoreCap = 10
)

// peerScoreParams returns the global score parameters; topics add theirs
// as they are joined (topicScoreParams).
//
// IP colocation is off on purpose: a live room's audience often shares one
// public address (a venue's Wi-Fi, a campus NAT), and on loopback every
// peer does. Mesh delivery deficits (P3) are off too: a quiet room delivers
// nothing for minutes, which must not look like misbehaviour.
func peerScoreParams() *lpubsub.PeerScoreParams {
	return &lpubsub.PeerScoreParams{
		SkipAtomicValidation:      true,
		Topics:                    make(map[string]*lpubsub.TopicScoreParams),
		TopicScoreCap:             topicScoreCap,
		AppSpecificScore:          func(peer.ID) float64 { return 0 },
		AppSpecificWeight:         1,
		BehaviourPenaltyWeight:    -1,
		BehaviourPenaltyThreshold: 6,
		BehaviourPenaltyDecay:     lpubsub.ScoreParameterDecay(10 * time.Minute),
		DecayInterval:             time.Second,
		DecayToZero:               0.01,
		RetainScore:               time.Hour, // reconnecting does not wash a score
	}
}

// topicScoreParams returns a topic's score parameters: a little credit for
// time in the mesh and for first deliveries, a heavy penalty for invalid
// messages that decays over about an hour.
func topicScoreParams() *lpubsub.TopicScoreParams {
	return &lpubsub.TopicScoreParams{
		SkipAtomicValidation: true,
		TopicWeight:          1,

		TimeInMeshWeight:  0.01,
		TimeInMeshQuantum: time.Second,
		TimeInMeshCap:     300, // at most 3 points

		FirstMessageDeliveriesWeight: 1,
		FirstMessageDeliveriesDecay:  lpubsub.ScoreParameterDecay(10 * time.Minute),
		FirstMessageDeliveriesCap:    topicScoreCap,

		InvalidMessageDeliveriesWeight: invalidWeight,
		InvalidMessageDeliveriesDecay:  lpubsub.ScoreParameterDecay(time.Hour),
	}
}

func peerScoreThresholds() *lpubsub.PeerScoreThresholds {
	return &lpubsub.PeerScoreThresholds{
		GossipThreshold:             gossipThreshold,
		PublishThreshold:            publishThreshold,
		GraylistThreshold:           graylistThreshold,
		AcceptPXThreshold:           acceptPXThreshold,
		OpportunisticGraftThreshold: opportunisticGraft,
	}
}
