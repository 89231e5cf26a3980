package chat

import (
	"fmt"
	"net/http"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/internal/apiutil"
)

// groupRoutes registers the group routes of the local API.
func (s *Service) groupRoutes(handle func(pattern string, h http.Handler)) {
	handle("POST /api/v1/chat/groups", http.HandlerFunc(s.handleGroupCreate))
	handle("GET /api/v1/chat/groups", http.HandlerFunc(s.handleGroupList))
	handle("GET /api/v1/chat/groups/{id}", http.HandlerFunc(s.handleGroupShow))
	handle("GET /api/v1/chat/groups/{id}/messages", http.HandlerFunc(s.handleGroupMessages))
	handle("POST /api/v1/chat/groups/{id}/send", http.HandlerFunc(s.handleGroupSend))
	handle("POST /api/v1/chat/groups/{id}/invite", http.HandlerFunc(s.handleGroupInvite))
	handle("POST /api/v1/chat/groups/{id}/remove", http.HandlerFunc(s.handleGroupRemove))
	handle("POST /api/v1/chat/groups/{id}/leave", http.HandlerFunc(s.handleGroupLeave))
	handle("POST /api/v1/chat/groups/{id}/rename", http.HandlerFunc(s.handleGroupRename))
	handle("POST /api/v1/chat/groups/{id}/timer", http.HandlerFunc(s.handleGroupTimer))
}

// GroupCreateRequest is the body of POST /api/v1/chat/groups.
type GroupCreateRequest struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`       // peer IDs, TON addresses or names, besides yourself
	TTL     string   `json:"ttl,omitempty"` // the group's default timer; empty: none
}

// GroupMembersRequest is the body of invite and remove.
type GroupMembersRequest struct {
	Members []string `json:"members"`
	Admin   bool     `json:"admin,omitempty"` // invite: make them admins too
}

// GroupRenameRequest is the body of rename.
type GroupRenameRequest struct {
	Name string `json:"name"`
}

// GroupTimerRequest is the body of timer.
type GroupTimerRequest struct {
	TTL string `json:"ttl"` // "off" or "0": none
}

// GroupSendRequest is the body of send.
type GroupSendRequest struct {
	Text string `json:"text"`
	TTL  string `json:"ttl,omitempty"`
}

// GroupList answers GET /api/v1/chat/groups.
type GroupList struct {
	Groups []Group `json:"groups"`
}

func (s *Service) groupID(w http.ResponseWriter, r *http.Request) (GroupID, bool) {
	g, err := ParseGroupID(r.PathValue("id"))
	if err != nil {
		writeErr(w, err)
		return g, false
	}
	return g, true
}

func (s *Service) resolveMembers(r *http.Request, vs []string) ([]peer.ID, error) {
	var out []peer.ID
	for i, v := range vs {
		p, err := s.resolvePeer(r.Context(), fmt.Sprintf("members[%d]", i), v)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (s *Service) handleGroupCreate(w http.ResponseWriter, r *http.Request) {
	var req GroupCreateRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	ms, err := s.resolveMembers(r, req.Members)
	if err != nil {
		writeErr(w, err)
		return
	}
	ttl, err := ParseTTL(req.TTL)
	if err != nil {
		writeErr(w, err)
		return
	}
	g, err := s.CreateGroup(r.Context(), req.Name, ms, ttl)
	respond(w, g, err)
}

func (s *Service) handleGroupList(w http.ResponseWriter, r *http.Request) {
	gs, err := s.Groups()
	if err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, GroupList{Groups: gs})
}

func (s *Service) handleGroupShow(w http.ResponseWriter, r *http.Request) {
	g, ok := s.groupID(w, r)
	if !ok {
		return
	}
	info, err := s.GroupInfo(g)
	respond(w, info, err)
}

func (s *Service) handleGroupMessages(w http.ResponseWriter, r *http.Request) {
	g, ok := s.groupID(w, r)
	if !ok {
		return
	}
	since, limit, ok := pageQuery(w, r.URL.Query())
	if !ok {
		return
	}
	page, err := s.GroupMessages(g, since, limit)
	respond(w, page, err)
}

func (s *Service) handleGroupSend(w http.ResponseWriter, r *http.Request) {
	g, ok := s.groupID(w, r)
	if !ok {
		return
	}
	var req GroupSendRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	ttl, err := ParseTTL(req.TTL)
	if err != nil {
		writeErr(w, err)
		return
	}
	m, err := s.SendGroup(r.Context(), g, req.Text, ttl)
	respond(w, m, err)
}

func (s *Service) handleGroupInvite(w http.ResponseWriter, r *http.Request) {
	s.handleGroupMembers(w, r, true)
}

func (s *Service) handleGroupRemove(w http.ResponseWriter, r *http.Request) {
	s.handleGroupMembers(w, r, false)
}

func (s *Service) handleGroupMembers(w http.ResponseWriter, r *http.Request, invite bool) {
	g, ok := s.groupID(w, r)
	if !ok {
		return
	}
	var req GroupMembersRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	if len(req.Members) == 0 {
		apiutil.BadRequest(w, "members: name at least one peer ID")
		return
	}
	ms, err := s.resolveMembers(r, req.Members)
	if err != nil {
		writeErr(w, err)
		return
	}
	var info *Group
	if invite {
		info, err = s.InviteToGroup(r.Context(), g, ms, req.Admin)
	} else {
		if req.Admin {
			apiutil.BadRequest(w, "admin: only an invite takes it")
			return
		}
		info, err = s.RemoveFromGroup(r.Context(), g, ms)
	}
	if err != nil {
		writeErr(w, err)
		return
	}
	apiutil.WriteJSON(w, http.StatusOK, info)
}

func (s *Service) handleGroupLeave(w http.ResponseWriter, r *http.Request) {
	g, ok := s.groupID(w, r)
	if !ok {
		return
	}
	info, err := s.LeaveGroup(r.Context(), g)
	respond(w, info, err)
}

func (s *Service) handleGroupRename(w http.ResponseWriter, r *http.Request) {
	g, ok := s.groupID(w, r)
	if !ok {
		return
	}
	var req GroupRenameRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	info, err := s.RenameGroup(r.Context(), g, req.Name)
	respond(w, info, err)
}

func (s *Service) handleGroupTimer(w http.ResponseWriter, r *http.Request) {
	g, ok := s.groupID(w, r)
	if !ok {
		return
	}
	var req GroupTimerRequest
	if !apiutil.DecodeJSON(w, r, &req) {
		return
	}
	ttl, err := ParseTTL(req.TTL)
	if err != nil {
		writeErr(w, err)
		return
	}
	info, err := s.SetGroupTimer(r.Context(), g, ttl)
	respond(w, info, err)
}
