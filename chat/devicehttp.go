package chat

import (
	"fmt"
	"net/http"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/apiutil"
)

// deviceRoutes registers the linked-device routes of the local API.
func (s *Service) deviceRoutes(handle func(pattern string, h http.Handler)) {
	handle("GET /api/v1/chat/devices", http.HandlerFunc(s.handleDevices))
	handle("POST /api/v1/chat/devices/link", http.HandlerFunc(s.handleDeviceLink))
	handle("POST /api/v1/chat/devices/join", http.HandlerFunc(s.handleDeviceJoin))
	handle("DELETE /api/v1/chat/devices/{peer}", http.HandlerFunc(s.handleDeviceRemove))
}

// DeviceInfo is one device of an identity.
type DeviceInfo struct {
	Peer    string    `json:"peer"`
	Name    string    `json:"name,omitempty"`
	Added   time.Time `json:"added,omitzero"`
	Primary bool      `json:"primary,omitempty"` // the identity's own node
	This    bool      `json:"this,omitempty"`    // the node that answered
}

// Devices answers GET /api/v1/chat/devices and the changes.
type Devices struct {
	Identity string       `json:"identity"` // who this node chats as
	Version  uint64       `json:"version"`  // of the signed list; 0: none yet
	Linked   bool         `json:"linked"`   // this node is a linked device, not the primary
	Devices  []DeviceInfo `json:"devices"`  // the primary first
}

// LinkRequest is the body of POST /api/v1/chat/devices/link.
type LinkRequest struct {
	TTL string `json:"ttl,omitempty"` // how long the link is valid, e.g. "10m"; empty: DefaultLinkTTL
}

// LinkResult answers POST /api/v1/chat/devices/link.
type LinkResult struct {
	Link    string    `json:"link"` // give it to the new device only: it admits one device
	Expires time.Time `json:"expires"`
}

// JoinRequest is the body of POST /api/v1/chat/devices/join.
type JoinRequest struct {
	Link string `json:"link"`           // the tonmesh://chat-device?… link of the primary
	Name string `json:"name,omitempty"` // this device's name in the list, e.g. "laptop"
}

// describeDevices is the API view of l (nil: this node alone).
func (s *Service) describeDevices(l *deviceList) *Devices {
	if l == nil {
		l = &deviceList{Identity: s.self}
	}
	out := &Devices{Identity: l.Identity.String(), Version: l.Version, Linked: l.Identity != s.self,
		Devices: []DeviceInfo{{Peer: l.Identity.String(), Primary: true, This: l.Identity == s.self}}}
	for _, d := range l.Devices {
		out.Devices = append(out.Devices, DeviceInfo{Peer: d.Peer.String(), Name: d.Name, Added: d.Added, This: d.Peer == s.self})
	}
	return out
}

func (s *Service) handleDevices(w http.ResponseWriter, r *http.Request) {
	apiutil.WriteJSON(w, http.StatusOK, s.describeDevices(s.ownList()))
}

func (s *Service) handleDeviceLink(w http.ResponseWriter, r *http.Request) {
	var req LinkRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	var ttl time.Duration
	if req.TTL != "" {
		var err error
		if ttl, err = time.ParseDuration(req.TTL); err != nil || ttl <= 0 || ttl > 24*time.Hour {
			apiutil.BadRequest(w, fmt.Sprintf("ttl: %q: use a duration up to 24h, like 10m", req.TTL))
			return
		}
	}
	link, exp, err := s.CreateDeviceLink(ttl)
	respond(w, LinkResult{Link: link, Expires: exp}, err)
}

func (s *Service) handleDeviceJoin(w http.ResponseWriter, r *http.Request) {
	var req JoinRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	l, err := s.JoinDevice(r.Context(), req.Link, req.Name)
	if err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, s.describeDevices(l))
}

func (s *Service) handleDeviceRemove(w http.ResponseWriter, r *http.Request) {
	p, err := peer.Decode(r.PathValue("peer"))
	if err != nil {
		apiutil.BadRequest(w, fmt.Sprintf("peer: %q is not a peer ID (see `tonmesh chat device list`)", r.PathValue("peer")))
		return
	}
	l, err := s.RemoveDevice(r.Context(), p)
	if err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, s.describeDevices(l))
}
