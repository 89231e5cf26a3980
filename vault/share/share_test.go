package share

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
	"github.com/tonmesh/tonmesh/vault/passport"
)

const scopeIDAndName = `{"v":1,"data":["personal_details",{"one_of":["passport","identity_card"],"selfie":true}]}`

func TestRequestApproveReceiveDecrypt(t *testing.T) {
	ctx := context.Background()
	c := getCluster(t)
	svc, user, j := c.svc, c.user, c.userJournal
	priv, pub := serviceKeys(t)

	res, err := svc.NewRequest(ctx, NewRequestParams{Scope: json.RawMessage(scopeIDAndName), PublicKey: pub, To: user.PeerID().String()})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Delivered || res.Nonce == "" || !strings.HasPrefix(res.Link, "tonmesh://passport?") {
		t.Fatalf("new request: %+v", res)
	}
	p := pendingByID(t, user, res.ID)
	if p == nil {
		t.Fatal("the delivered request is not pending")
	}
	if p.ID != res.ID || p.Service != svc.PeerID().String() || p.Nonce != res.Nonce || len(p.Missing) != 0 || p.Via != "delivered" {
		t.Fatalf("pending view %+v", p)
	}
	wantAsks := []passport.Ask{
		{Type: passport.TypePersonalDetails, Fields: []string{"first_name", "last_name", "birth_date", "gender", "country_code", "residence_country_code", "middle_name"}, Files: []string{}},
		{Type: passport.TypeIdentityCard, OneOf: []passport.ElementType{passport.TypePassport, passport.TypeIdentityCard},
			Fields: []string{"document_no", "expiry_date"}, Files: []string{"front_side", "reverse_side", "selfie"}},
	}
	if !reflect.DeepEqual(p.Asks, wantAsks) {
		t.Fatalf("asks %+v\nwant %+v", p.Asks, wantAsks)
	}

	sum, err := user.Approve(ctx, p.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sum.Types, []passport.ElementType{passport.TypePersonalDetails, passport.TypeIdentityCard}) || sum.Files != 3 {
		t.Fatalf("summary %+v", sum)
	}
	if got := j.keys(); !slices.Contains(got, "share share:"+svc.PeerID().String()+":"+res.Nonce) {
		t.Fatalf("journal %v lacks the share", got)
	}
	if pendingByID(t, user, res.ID) != nil {
		t.Fatal("still pending after approval")
	}
	shares, _ := user.Shares()
	if !slices.ContainsFunc(shares, func(r ShareRecord) bool { return r.ID == res.ID && r.Nonce == res.Nonce }) {
		t.Fatalf("shares %+v", shares)
	}

	all, err := svc.Received()
	i := slices.IndexFunc(all, func(v ReceivedView) bool { return v.ID == res.ID })
	if err != nil || i < 0 {
		t.Fatalf("received %+v, %v", all, err)
	}
	recv := all[i]
	if recv.From != user.PeerID().String() || len(recv.FileIDs) != 3 || recv.Nonce != res.Nonce {
		t.Fatalf("received %+v", recv)
	}
	// The PassportData is the Bot API shape.
	var pd passport.PassportData
	if err := json.Unmarshal(recv.PassportData, &pd); err != nil || pd.Credentials.Secret == "" || len(pd.Data) != 2 {
		t.Fatalf("passport data %s: %v", recv.PassportData, err)
	}
	dec, err := svc.Decrypt(ctx, priv, res.ID)
	if err != nil || len(dec) != 1 || dec[0].Error != "" {
		t.Fatalf("decrypt %+v, %v", dec, err)
	}
	els := dec[0].Elements
	wantPD := personal().Data
	delete(wantPD, "first_name_native") // native_names not asked
	if els[0].Type != passport.TypePersonalDetails || !reflect.DeepEqual(els[0].Data, wantPD) {
		t.Fatalf("personal details %+v", els[0])
	}
	ic := els[1]
	if ic.Type != passport.TypeIdentityCard || string(ic.Selfie.Bytes) != string(idCard().Selfie.Bytes) || ic.Translation != nil || ic.Data["document_no"] != "L01X00T47" {
		t.Fatalf("identity card %+v", ic)
	}
	// The file route hands out the encrypted bytes the PassportData names.
	f, err := svc.File(res.ID, pd.Data[1].FrontSide.FileID)
	if err != nil || int64(len(f)) != pd.Data[1].FrontSide.FileSize {
		t.Fatalf("file: %d bytes, %v", len(f), err)
	}
}

func TestNonceIsUsedOnce(t *testing.T) {
	ctx := context.Background()
	ps := peers.Start(t, 2)
	// The service is the second peer: a restarted peer finds the network
	// again through the first.
	svc := startShare(t, ps[1], nil, nil)
	user := startShare(t, ps[0], newSource(personal()), nil)
	_, pub := serviceKeys(t)

	res, err := svc.NewRequest(ctx, NewRequestParams{Scope: json.RawMessage(`["personal_details"]`), PublicKey: pub, Nonce: "once-1"})
	if err != nil {
		t.Fatal(err)
	}
	// The same nonce cannot be issued twice.
	if _, err := svc.NewRequest(ctx, NewRequestParams{Scope: json.RawMessage(`["personal_details"]`), PublicKey: pub, Nonce: "once-1"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("second issue of a nonce: %v", err)
	}
	v, err := user.AddLink(ctx, res.Link)
	if err != nil || v.Via != "link" {
		t.Fatalf("add link: %+v, %v", v, err)
	}
	// Keep what the user sends, to replay it.
	msg, files := buildShareMsg(t, user, v.ID)
	if _, err := user.Approve(ctx, v.ID, false); err != nil {
		t.Fatal(err)
	}
	// The user node refuses the same (service, nonce) again.
	if _, err := user.Approve(ctx, v.ID, false); !errors.Is(err, ErrConflict) {
		t.Fatalf("second approval: %v", err)
	}
	if _, err := user.AddLink(ctx, res.Link); !errors.Is(err, ErrConflict) {
		t.Fatalf("re-adding an answered link: %v", err)
	}
	// The service node refuses a replay of the share...
	err = user.send(ctx, svc.PeerID(), kindShare, msg, files)
	if err == nil || !strings.Contains(err.Error(), "used already") {
		t.Fatalf("replayed share: %v", err)
	}
	// ...also after a restart.
	svc.Stop()
	ps[1].Restart(t)
	svc2 := startShare(t, ps[1], nil, nil)
	waitFor(t, "user reconnects", func() bool { return user.connect(ctx, svc2.PeerID()) == nil })
	err = user.send(ctx, svc2.PeerID(), kindShare, msg, files)
	if err == nil || !strings.Contains(err.Error(), "used already") {
		t.Fatalf("replayed share after restart: %v", err)
	}
	if recv, _ := svc2.Received(); len(recv) != 1 {
		t.Fatalf("%d shares stored, want 1", len(recv))
	}
	// A share for a nonce the service never issued is refused too.
	msg.Nonce = "never-issued"
	if err := user.send(ctx, svc2.PeerID(), kindShare, msg, files); err == nil || !strings.Contains(err.Error(), "issued no request") {
		t.Fatalf("share for an unknown nonce: %v", err)
	}
}

// buildShareMsg builds the share message the user would send for pending
// request id, for replay tests.
func buildShareMsg(t *testing.T, s *Service, id string) (*shareMsg, [][]byte) {
	t.Helper()
	var p pending
	if err := s.getJSON(pfxPending+id, &p); err != nil {
		t.Fatal(err)
	}
	scope, _ := p.Request.Validate()
	pub, _ := passport.ParsePublicKey(p.Request.PublicKey)
	els, _ := passport.SelectElements(scope, s.ownedElements(context.Background(), scope))
	sh, err := passport.BuildShare(pub, p.Request.Nonce, els, s.cfg.Now())
	if err != nil {
		t.Fatal(err)
	}
	m := &shareMsg{Nonce: p.Request.Nonce, Files: []wireFile{}}
	m.Data, _ = json.Marshal(sh.Data)
	var files [][]byte
	for _, ep := range sh.Data.Data {
		for _, pf := range passportFiles(&ep) {
			m.Files = append(m.Files, wireFile{FileID: pf.FileID, Size: len(sh.Files[pf.FileID])})
			files = append(files, sh.Files[pf.FileID])
		}
	}
	return m, files
}

func TestDecline(t *testing.T) {
	ctx := context.Background()
	c := getCluster(t)
	svc, user, j := c.svc, c.user, c.userJournal
	_, pub := serviceKeys(t)
	res, err := svc.NewRequest(ctx, NewRequestParams{Scope: json.RawMessage(`["pd"]`), PublicKey: pub, To: user.PeerID().String()})
	if err != nil || !res.Delivered {
		t.Fatalf("%+v, %v", res, err)
	}
	msg, files := buildShareMsg(t, user, res.ID)
	d, err := user.Decline(ctx, res.ID)
	if err != nil || !d.Notified {
		t.Fatalf("decline: %+v, %v", d, err)
	}
	issued, _ := svc.Issued()
	if !slices.ContainsFunc(issued, func(v IssuedView) bool { return v.ID == res.ID && v.Status == StatusDeclined }) {
		t.Fatalf("issued %+v", issued)
	}
	if _, err := user.Approve(ctx, res.ID, false); !errors.Is(err, ErrConflict) {
		t.Fatalf("approve after decline: %v", err)
	}
	if err := user.send(ctx, svc.PeerID(), kindShare, msg, files); err == nil {
		t.Fatal("the service accepted a share for a declined request")
	}
	if slices.Contains(j.keys(), "share share:"+svc.PeerID().String()+":"+res.Nonce) {
		t.Fatalf("a declined request was journaled: %v", j.keys())
	}
}

func TestMissingElementsBlockApproval(t *testing.T) {
	ctx := context.Background()
	c := getCluster(t)
	svc, user := c.svc, c.other // other has personal details only
	_, pub := serviceKeys(t)
	res, err := svc.NewRequest(ctx, NewRequestParams{Scope: json.RawMessage(`{"v":1,"data":["pd",{"one_of":["dl","ic"]},"address"]}`), PublicKey: pub, To: user.PeerID().String()})
	if err != nil {
		t.Fatal(err)
	}
	p := pendingByID(t, user, res.ID)
	want := []passport.ElementType{passport.TypeDriverLicense, passport.TypeIdentityCard, passport.TypeAddress}
	if p == nil || !reflect.DeepEqual(p.Missing, want) {
		t.Fatalf("pending %+v, want missing %v", p, want)
	}
	_, err = user.Approve(ctx, res.ID, false)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "address") {
		t.Fatalf("approve with missing elements: %v", err)
	}
	if recv, _ := svc.Received(); slices.ContainsFunc(recv, func(v ReceivedView) bool { return v.ID == res.ID }) {
		t.Fatal("something was shared")
	}
	// Still pending: the user may add the documents and approve later.
	if pendingByID(t, user, res.ID) == nil {
		t.Fatal("request dropped after a refused approval")
	}
}

func TestRequestMustComeFromItsService(t *testing.T) {
	ctx := context.Background()
	c := getCluster(t)
	svc, user, impostor := c.svc, c.user, c.other
	_, pub := serviceKeys(t)
	r := &passport.Request{ServiceID: svc.PeerID(), Scope: json.RawMessage(`["pd"]`), PublicKey: pub, Nonce: "impostor-1"}
	err := impostor.send(ctx, user.PeerID(), kindRequest, &requestMsg{Request: r}, nil)
	if err == nil || !strings.Contains(err.Error(), "came from") {
		t.Fatalf("request relayed by another peer: %v", err)
	}
	if p := pendingByID(t, user, RequestID(svc.PeerID(), "impostor-1")); p != nil {
		t.Fatalf("pending %+v", p)
	}
}
